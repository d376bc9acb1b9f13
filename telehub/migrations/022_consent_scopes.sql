-- Part 2 consent brought two scopes (telehub/auth.py KIND_SCOPES): consents:read and
-- consents:write, for clinics (who record their patients' consents) and the hub. A client
-- registered before with every scope its kind could use then gains them; a client registered
-- with a narrower choice keeps its choice.
UPDATE api_clients
SET scopes = ARRAY(SELECT DISTINCT s FROM unnest(scopes || ARRAY['consents:read', 'consents:write'])
                   AS s ORDER BY s)
WHERE kind = 'hub_admin'
  AND NOT scopes @> ARRAY['consents:read', 'consents:write']
  AND scopes @> ARRAY[
    'availability:write', 'bookings:outcome', 'bookings:read', 'bookings:write',
    'consultants:read', 'consultants:write', 'deliveries:read', 'deliveries:write',
    'econsults:read', 'econsults:write', 'feeds:write', 'groups:write', 'measures:read',
    'notes:read', 'notes:write', 'registry:read', 'services:read', 'services:write',
    'slots:read', 'webhooks:write'];
UPDATE api_clients
SET scopes = ARRAY(SELECT DISTINCT s FROM unnest(scopes || ARRAY['consents:read', 'consents:write'])
                   AS s ORDER BY s)
WHERE kind = 'spoke'
  AND NOT scopes @> ARRAY['consents:read', 'consents:write']
  AND scopes @> ARRAY[
    'bookings:read', 'bookings:write', 'consultants:read', 'econsults:read', 'econsults:write',
    'feeds:write', 'notes:acknowledge', 'notes:read', 'patients:read', 'patients:write',
    'registry:read', 'registry:write', 'services:read', 'slots:read', 'webhooks:write'];
