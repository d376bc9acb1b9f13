-- The clinics' public face in SQL (issue 16): what another package's one statement may read
-- of a clinic's patients. Only what booking needs: which clinic a patient belongs to and the
-- state they live in (a video session's consultant must be licensed there). Never a name.
CREATE VIEW spoke_patient_states AS
    SELECT id AS patient_id, spoke_id, state FROM patients;
