-- The collaborative care registry (care/): episodes of care, their measures and contacts, and
-- the consultant's recommendations from systematic case review, each signed as a consult note.

-- A clinic's care manager follows the caseload: a clinic user of a role of its own.
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN (
    'hub_admin', 'hub_coordinator', 'consultant', 'spoke_scheduler', 'spoke_clinician',
    'care_manager'));
ALTER TABLE users DROP CONSTRAINT users_check;
ALTER TABLE users ADD CONSTRAINT users_check
    CHECK ((role IN ('spoke_scheduler', 'spoke_clinician', 'care_manager')) = (spoke_id IS NOT NULL));
ALTER TABLE users ADD CONSTRAINT users_id_spoke UNIQUE (id, spoke_id);

-- An episode of care: one patient in one program, followed by one of the clinic's care
-- managers with one of the hub's consultants. A patient has at most one open episode of
-- each program.
CREATE TABLE episodes (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    spoke_id            bigint NOT NULL REFERENCES spokes (id),
    patient_id          uuid NOT NULL,
    program             text NOT NULL CHECK (program IN ('collaborative_care', 'oud')),
    care_manager_id     bigint NOT NULL,
    treating_clinician  text NOT NULL CHECK (length(treating_clinician) BETWEEN 1 AND 200),
    consultant_id       bigint NOT NULL REFERENCES consultants (id),
    started_on          date NOT NULL,
    ended_on            date,
    end_reason          text CHECK (end_reason IN (
                            'remission', 'transferred', 'lost_to_follow_up', 'declined')),
    created_by          text NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    -- The patient and the care manager belong to the episode's clinic: tenancy in the schema.
    FOREIGN KEY (patient_id, spoke_id) REFERENCES patients (id, spoke_id),
    FOREIGN KEY (care_manager_id, spoke_id) REFERENCES users (id, spoke_id),
    CHECK ((ended_on IS NULL) = (end_reason IS NULL)),
    CHECK (ended_on IS NULL OR ended_on >= started_on),
    UNIQUE (id, spoke_id)
);
CREATE UNIQUE INDEX episodes_one_open ON episodes (patient_id, program) WHERE ended_on IS NULL;
CREATE INDEX episodes_spoke_open ON episodes (spoke_id, started_on) WHERE ended_on IS NULL;
CREATE INDEX episodes_consultant_open ON episodes (consultant_id) WHERE ended_on IS NULL;
CREATE INDEX episodes_patient ON episodes (patient_id);

-- The total of a questionnaire's items; the score is computed here, never sent.
CREATE FUNCTION care_item_total(items smallint[]) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT sum(x)::integer FROM unnest(items) AS x $$;

-- A measure taken on one day: a questionnaire's answers (PHQ-9: nine items, GAD-7: seven,
-- each 0 to 3), MOUD adherence with the medication and dose, or a urine drug screen's panel.
CREATE TABLE care_measures (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    episode_id     uuid NOT NULL,
    spoke_id       bigint NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('phq9', 'gad7', 'moud', 'urine_drug_screen')),
    measured_on    date NOT NULL,
    items          smallint[],
    score          integer GENERATED ALWAYS AS (care_item_total(items)) STORED,
    adherence      text CHECK (adherence IN ('taking_as_prescribed', 'missed_doses', 'stopped')),
    medication     text,
    daily_dose_mg  numeric(7, 2) CHECK (daily_dose_mg BETWEEN 0 AND 2000),
    screen         jsonb,  -- {"fentanyl": "positive", ...}: the e-consult form's panel
    recorded_by    text NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (episode_id, spoke_id) REFERENCES episodes (id, spoke_id),
    CHECK (items IS NULL OR (array_position(items, NULL) IS NULL
                             AND 0 <= ALL (items) AND 3 >= ALL (items))),
    CHECK (CASE kind
        WHEN 'phq9' THEN coalesce(cardinality(items), 0) = 9
            AND adherence IS NULL AND medication IS NULL AND screen IS NULL
        WHEN 'gad7' THEN coalesce(cardinality(items), 0) = 7
            AND adherence IS NULL AND medication IS NULL AND screen IS NULL
        WHEN 'moud' THEN items IS NULL AND adherence IS NOT NULL AND medication IS NOT NULL
            AND screen IS NULL
        ELSE items IS NULL AND adherence IS NULL AND medication IS NULL AND screen IS NOT NULL
    END)
);
CREATE INDEX care_measures_episode ON care_measures (episode_id, kind, measured_on, recorded_at);

-- A care manager's contact with the patient: what the minutes ledger counts.
CREATE TABLE care_contacts (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    episode_id   uuid NOT NULL,
    spoke_id     bigint NOT NULL,
    contact_on   date NOT NULL,
    minutes      integer NOT NULL CHECK (minutes BETWEEN 1 AND 600),
    kind         text NOT NULL CHECK (kind IN ('phone', 'video', 'in_person', 'case_review')),
    who          text NOT NULL CHECK (length(who) BETWEEN 1 AND 200),
    counts       boolean NOT NULL,  -- toward collaborative care time (the billing ledger)
    recorded_by  text NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (episode_id, spoke_id) REFERENCES episodes (id, spoke_id)
);
CREATE INDEX care_contacts_episode ON care_contacts (episode_id, contact_on);
CREATE INDEX care_contacts_month ON care_contacts (spoke_id, contact_on) WHERE counts;

-- The consultant's recommendation for one patient in one systematic case review: signed as a
-- consult note to the patient's clinic (consult_notes.recommendation_id), and the episode's
-- last review. One per patient per review.
CREATE TABLE recommendations (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    booking_id     uuid NOT NULL REFERENCES bookings (id),
    episode_id     uuid NOT NULL,
    spoke_id       bigint NOT NULL,
    consultant_id  bigint NOT NULL REFERENCES consultants (id),
    choice         text NOT NULL CHECK (choice IN (
                       'no_change', 'adjust_medication', 'add_psychotherapy', 'refer',
                       'step_up_care')),
    text           text NOT NULL CHECK (length(text) BETWEEN 1 AND 4000),
    recorded_by    text NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (episode_id, spoke_id) REFERENCES episodes (id, spoke_id),
    UNIQUE (booking_id, episode_id)
);
CREATE INDEX recommendations_episode ON recommendations (episode_id, recorded_at);

ALTER TABLE consult_notes ADD COLUMN recommendation_id uuid REFERENCES recommendations (id);
ALTER TABLE consult_notes DROP CONSTRAINT consult_notes_one_subject;
ALTER TABLE consult_notes ADD CONSTRAINT consult_notes_one_subject
    CHECK (num_nonnulls(econsult_id, booking_id, group_seat_id, recommendation_id) = 1);
CREATE UNIQUE INDEX consult_notes_recommendation_version
    ON consult_notes (recommendation_id, version) WHERE recommendation_id IS NOT NULL;
CREATE UNIQUE INDEX consult_notes_one_recommendation_draft ON consult_notes (recommendation_id)
    WHERE recommendation_id IS NOT NULL AND signed_at IS NULL;

-- The registry brought two scopes (telehub/auth.py KIND_SCOPES): registry:read for every
-- kind, registry:write for clinics. A client registered before with every scope its kind
-- could use then gains them; a client registered with a narrower choice keeps its choice.
UPDATE api_clients
SET scopes = ARRAY(SELECT DISTINCT s FROM unnest(scopes || ARRAY['registry:read']) AS s ORDER BY s)
WHERE kind = 'hub_admin'
  AND NOT scopes @> ARRAY['registry:read']
  AND scopes @> ARRAY[
    'availability:write', 'bookings:outcome', 'bookings:read', 'bookings:write',
    'consultants:read', 'consultants:write', 'deliveries:read', 'deliveries:write',
    'econsults:read', 'econsults:write', 'feeds:write', 'groups:write', 'measures:read',
    'notes:read', 'notes:write', 'services:read', 'services:write', 'slots:read',
    'webhooks:write'];
UPDATE api_clients
SET scopes = ARRAY(SELECT DISTINCT s FROM unnest(scopes || ARRAY['registry:read']) AS s ORDER BY s)
WHERE kind = 'consultant'
  AND NOT scopes @> ARRAY['registry:read']
  AND scopes @> ARRAY[
    'availability:write', 'bookings:outcome', 'bookings:read', 'consultants:read',
    'econsults:read', 'econsults:write', 'feeds:write', 'groups:write', 'notes:read',
    'notes:write', 'services:read', 'slots:read'];
UPDATE api_clients
SET scopes = ARRAY(SELECT DISTINCT s FROM unnest(scopes || ARRAY['registry:read', 'registry:write'])
                   AS s ORDER BY s)
WHERE kind = 'spoke'
  AND NOT scopes @> ARRAY['registry:read', 'registry:write']
  AND scopes @> ARRAY[
    'bookings:read', 'bookings:write', 'consultants:read', 'econsults:read', 'econsults:write',
    'feeds:write', 'notes:acknowledge', 'notes:read', 'patients:read', 'patients:write',
    'services:read', 'slots:read', 'webhooks:write'];
