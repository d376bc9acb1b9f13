-- What a series' one read needs of two other packages (issue 16), as their public faces in SQL.

-- The clinics': the time zone whose wall-clock time a clinic's series keeps.
CREATE VIEW spoke_zones AS
    SELECT id AS spoke_id, timezone FROM spokes;

-- The hub's: each active consultant's role, for a series booked with "any consultant of a role"
-- (with hub_consultant_offers: the active consultants of that role offering the service).
CREATE VIEW hub_consultant_roles AS
    SELECT id AS consultant_id, role FROM consultants WHERE active;
