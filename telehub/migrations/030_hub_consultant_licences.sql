-- The hub's public face in SQL, continued (issue 16): where each consultant is licensed, active
-- or not, as hub/store.get_consultant answers it. A group's enrolment reads it in its one
-- statement to check the counselor is licensed in the patient's state.
CREATE VIEW hub_consultant_licences AS
    SELECT id AS consultant_id, licensed_states FROM consultants;
