-- The clinics' public face in SQL, continued (issue 16): the time zone whose wall-clock time a
-- clinic's series keeps, for a series' one read.
CREATE VIEW spoke_zones AS
    SELECT id AS spoke_id, timezone FROM spokes;
