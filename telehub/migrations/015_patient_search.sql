-- Finding a clinic's patients by name, MRN or birth date, and refusing a second record of one.
--
-- The keys a search compares are kept beside the patient as generated columns, made by two
-- IMMUTABLE functions, so a lookup is one indexed query and the database, not Python, decides
-- what "the same name" and "the same MRN" mean:
--   name key: Unicode NFKD, combining marks removed, lower case, runs of space made one
--             ("José  Álvarez" -> "jose alvarez");
--   MRN key:  NFKC, spaces and dashes removed, lower case ("ab-12 3" -> "ab123").
-- No contrib extension is needed (normalize() and regexp_replace() are built in).

CREATE FUNCTION patient_name_key(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN pg_catalog.btrim(pg_catalog.lower(pg_catalog.regexp_replace(
    pg_catalog.regexp_replace(
        normalize(value, NFKD),
        '[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]', '', 'g'),
    '\s+', ' ', 'g')));

CREATE FUNCTION patient_mrn_key(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN pg_catalog.lower(pg_catalog.regexp_replace(
    normalize(value, NFKC), '[\s\-\u2010-\u2015\u2212]', '', 'g'));

ALTER TABLE patients
    ADD COLUMN family_key text GENERATED ALWAYS AS (patient_name_key(family_name)) STORED,
    ADD COLUMN given_key text GENERATED ALWAYS AS (patient_name_key(given_name)) STORED,
    ADD COLUMN mrn_key text GENERATED ALWAYS AS (patient_mrn_key(mrn)) STORED;

-- A same-MRN patient is the same patient: two records whose MRNs differ only in case, spaces or
-- dashes cannot both exist in one clinic. A database holding such a pair stops here, by name,
-- rather than half-migrated: merge the pair, then migrate again.
DO $$
DECLARE
    pairs bigint;
BEGIN
    SELECT count(*) INTO pairs FROM (
        SELECT 1 FROM patients GROUP BY spoke_id, mrn_key HAVING count(*) > 1
    ) AS twice;
    IF pairs > 0 THEN
        RAISE EXCEPTION '% MRN(s) recorded twice in one clinic (differing only in case, spaces '
            'or dashes): merge those patients before migrating', pairs;
    END IF;
END
$$;

-- The unique index is what makes two racing creates of one MRN answer 201 and 409.
CREATE UNIQUE INDEX patients_spoke_mrn_key ON patients (spoke_id, mrn_key);
CREATE INDEX patients_spoke_birth_date ON patients (spoke_id, birth_date);
-- Name prefix lookups and the duplicate check (same names, same birth date).
CREATE INDEX patients_spoke_family_key ON patients (spoke_id, family_key text_pattern_ops);
CREATE INDEX patients_spoke_given_key ON patients (spoke_id, given_key text_pattern_ops);
