-- The hub's public face in SQL (issue 16): which active consultant offers which service, in
-- which time zone, licensed where. What the booking path's one read needs of the hub.
CREATE VIEW hub_consultant_offers AS
    SELECT c.id AS consultant_id, cs.service_id, c.name, c.timezone, c.licensed_states
    FROM consultants c
    JOIN consultant_services cs ON cs.consultant_id = c.id
    WHERE c.active;
