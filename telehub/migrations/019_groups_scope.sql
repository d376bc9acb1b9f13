-- Groups (issue 12) brought the scope groups:write to hub admin and consultant clients
-- (telehub/auth.py KIND_SCOPES). Clients registered before with every scope their kind could
-- use then are given it too, so they can run groups as a client registered today can; a client
-- registered with a narrower choice of scopes keeps exactly what was chosen.
UPDATE api_clients
SET scopes = ARRAY(SELECT DISTINCT s FROM unnest(scopes || ARRAY['groups:write']) AS s ORDER BY s)
WHERE kind = 'hub_admin'
  AND NOT scopes @> ARRAY['groups:write']
  AND scopes @> ARRAY[
    'availability:write',
    'bookings:outcome',
    'bookings:read',
    'bookings:write',
    'consultants:read',
    'consultants:write',
    'deliveries:read',
    'deliveries:write',
    'econsults:read',
    'econsults:write',
    'feeds:write',
    'measures:read',
    'notes:read',
    'notes:write',
    'services:read',
    'services:write',
    'slots:read',
    'webhooks:write'
];
UPDATE api_clients
SET scopes = ARRAY(SELECT DISTINCT s FROM unnest(scopes || ARRAY['groups:write']) AS s ORDER BY s)
WHERE kind = 'consultant'
  AND NOT scopes @> ARRAY['groups:write']
  AND scopes @> ARRAY[
    'availability:write',
    'bookings:outcome',
    'bookings:read',
    'consultants:read',
    'econsults:read',
    'econsults:write',
    'feeds:write',
    'notes:read',
    'notes:write',
    'services:read',
    'slots:read'
];
