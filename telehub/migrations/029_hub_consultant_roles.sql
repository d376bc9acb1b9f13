-- The hub's public face in SQL, continued (issue 16): each active consultant's role, for a
-- series booked with "any consultant of a role" (with hub_consultant_offers: the active
-- consultants of that role offering the service) and a reschedule's waitlist check.
CREATE VIEW hub_consultant_roles AS
    SELECT id AS consultant_id, role FROM consultants WHERE active;
