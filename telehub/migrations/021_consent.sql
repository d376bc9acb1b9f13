-- Part 2 consent (42 CFR part 2): a consult note leaves the hub only under a consent in force
-- that covers its recipient and its kind; a note without one is held (never dropped), and
-- every disclosure is accounted for.

-- A patient's written consent, recorded by the patient's clinic (or the hub).
--   tpo: treatment, payment and health care operations (the 2024 rule's single consent);
--   specific: a named purpose; counseling_notes: counseling notes, which no other consent covers.
-- `disclose` names the kinds of note it covers (consults/part2.py NoteCategory).
CREATE TABLE consents (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    spoke_id             bigint NOT NULL REFERENCES spokes (id),
    patient_id           uuid NOT NULL,
    kind                 text NOT NULL CHECK (kind IN ('tpo', 'specific', 'counseling_notes')),
    recipient_spoke_ids  bigint[] NOT NULL CHECK (cardinality(recipient_spoke_ids) BETWEEN 1 AND 20),
    other_recipients     text[] NOT NULL DEFAULT '{}' CHECK (cardinality(other_recipients) <= 20),
    disclose             text[] NOT NULL CHECK (
                             cardinality(disclose) >= 1
                             AND disclose <@ ARRAY['econsult_answer', 'session_note',
                                 'group_session_note', 'case_review_recommendation',
                                 'counseling_note']),
    purpose              text NOT NULL CHECK (length(purpose) BETWEEN 1 AND 500),
    signed_on            date NOT NULL,
    expires_on           date,  -- NULL: until revoked
    recorded_by          text NOT NULL,
    recorded_at          timestamptz NOT NULL DEFAULT now(),
    revoked_on           date,           -- the day the patient revoked, as the clinic learned it
    revoked_how          text CHECK (revoked_how IN ('written', 'verbal', 'electronic')),
    revoked_at           timestamptz,    -- when the revocation was recorded: it stops disclosures
    revoked_by           text,
    form                 bytea CHECK (octet_length(form) <= 5242880),
    form_type            text CHECK (form_type IN ('application/pdf', 'image/png', 'image/jpeg')),
    form_name            text CHECK (length(form_name) BETWEEN 1 AND 200),
    FOREIGN KEY (patient_id, spoke_id) REFERENCES patients (id, spoke_id),
    CHECK (expires_on IS NULL OR expires_on >= signed_on),
    CHECK (num_nonnulls(revoked_on, revoked_how, revoked_at, revoked_by) IN (0, 4)),
    CHECK (revoked_on IS NULL OR revoked_on >= signed_on),
    CHECK (num_nonnulls(form, form_type, form_name) IN (0, 3)),
    -- Counseling notes need their own consent, and that consent covers nothing else.
    CHECK ((kind = 'counseling_notes') = ('counseling_note' = ANY (disclose))),
    CHECK (kind <> 'counseling_notes' OR disclose = ARRAY['counseling_note'])
);
CREATE INDEX consents_patient ON consents (patient_id, signed_on);

-- Whether a consent is in force at a moment: signed, not expired (dates in the clinic's
-- zone), not revoked. spokes' public face in SQL: the outbox's claim reads it.
CREATE FUNCTION consent_in_force(consent_id uuid, at timestamptz) RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce((
        SELECT c.revoked_at IS NULL
           AND c.signed_on <= (at AT TIME ZONE s.timezone)::date
           AND (c.expires_on IS NULL OR c.expires_on >= (at AT TIME ZONE s.timezone)::date)
        FROM consents c JOIN spokes s ON s.id = c.spoke_id
        WHERE c.id = consent_id), false)
$$;

-- A counseling note is a kind the counselor chooses for a session's or a group's note.
ALTER TABLE consult_notes ADD COLUMN kind text NOT NULL DEFAULT 'consult'
    CHECK (kind IN ('consult', 'counseling'));
ALTER TABLE consult_notes ADD CONSTRAINT consult_notes_counseling_of_a_session
    CHECK (kind = 'consult' OR booking_id IS NOT NULL OR group_seat_id IS NOT NULL);

-- The outbox knows the note an event discloses and the consent it goes under. A note event
-- with no consent in force is held: kept, shown, and released when a consent is recorded.
ALTER TABLE outbox ADD COLUMN note_id uuid REFERENCES consult_notes (id);
ALTER TABLE outbox ADD COLUMN consent_id uuid REFERENCES consents (id);
ALTER TABLE outbox ADD COLUMN held_at timestamptz;
ALTER TABLE outbox ADD COLUMN held_reason text CHECK (length(held_reason) <= 500);
ALTER TABLE outbox ADD CONSTRAINT outbox_held_whole
    CHECK ((held_at IS NULL) = (held_reason IS NULL));
ALTER TABLE outbox ADD CONSTRAINT outbox_held_not_delivered
    CHECK (held_at IS NULL OR delivered_at IS NULL);
UPDATE outbox SET note_id = (payload -> 'data' ->> 'note_id')::uuid
WHERE event_type IN ('note.signed', 'note.amended');
-- One event per note version: a release can never send a note twice.
CREATE UNIQUE INDEX outbox_one_per_note ON outbox (note_id) WHERE note_id IS NOT NULL;
-- Notes signed before consent gating and not yet delivered wait for a consent like any other.
UPDATE outbox SET held_at = now(),
    held_reason = 'signed before consent gating: no consent on record'
WHERE note_id IS NOT NULL AND delivered_at IS NULL;
DROP INDEX outbox_due;
CREATE INDEX outbox_due ON outbox (next_attempt_at)
    WHERE delivered_at IS NULL AND failed_at IS NULL AND held_at IS NULL;
CREATE INDEX outbox_held ON outbox (spoke_id, created_at) WHERE held_at IS NOT NULL;

CREATE OR REPLACE FUNCTION outbox_notify_due() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM changed
        WHERE delivered_at IS NULL AND failed_at IS NULL AND held_at IS NULL
          AND next_attempt_at <= now()
    ) THEN
        PERFORM pg_notify('outbox_due', '');
    END IF;
    RETURN NULL;
END
$$;

-- The accounting of disclosures (42 CFR 2.24): one row per disclosure of a Part 2 record,
-- never changed or deleted.
CREATE TABLE disclosures (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    note_id             uuid NOT NULL REFERENCES consult_notes (id),
    note_version        integer NOT NULL,
    patient_id          uuid NOT NULL,
    spoke_id            bigint NOT NULL,  -- the patient's clinic
    recipient_spoke_id  bigint NOT NULL REFERENCES spokes (id),
    channel             text NOT NULL CHECK (channel IN (
                            'webhook', 'api', 'page', 'print', 'export', 'fhir')),
    consent_id          uuid NOT NULL REFERENCES consents (id),
    disclosed_at        timestamptz NOT NULL DEFAULT now(),
    disclosed_by        text NOT NULL,  -- the actor (user:7, client:…), or webhook:<webhook-id>
    request_id          text,
    FOREIGN KEY (patient_id, spoke_id) REFERENCES patients (id, spoke_id)
);
CREATE INDEX disclosures_patient ON disclosures (patient_id, disclosed_at);

CREATE FUNCTION disclosures_are_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the accounting of disclosures is never changed'
        USING ERRCODE = 'integrity_constraint_violation';
END $$;
CREATE TRIGGER disclosures_are_final BEFORE UPDATE OR DELETE ON disclosures
    FOR EACH ROW EXECUTE FUNCTION disclosures_are_final();
