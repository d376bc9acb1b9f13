-- Hub clients were registered with every scope, including the clinic-only ones that a hub
-- token can never use (patients are kept by their clinic; the referring clinic acknowledges
-- its notes). They are no longer granted (telehub/auth.py KIND_SCOPES): drop them from the
-- clients registered before, so the stored scopes say what a client can really be granted.
UPDATE api_clients
SET scopes = ARRAY(
    SELECT s FROM unnest(scopes) AS s
    WHERE s NOT IN ('patients:read', 'patients:write', 'notes:acknowledge')
    ORDER BY s
)
WHERE kind = 'hub_admin'
  AND scopes && ARRAY['patients:read', 'patients:write', 'notes:acknowledge'];
