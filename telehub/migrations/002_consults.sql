-- E-consults, clarification threads, consult notes, and their delivery back to the clinics.

-- A spoke's webhook: where notes are pushed, the Standard Webhooks secret, and whether the
-- payload carries the note itself (opt-in) or only identifiers and links (default).
ALTER TABLE spokes
    ADD COLUMN webhook_full_payload boolean NOT NULL DEFAULT false,
    ADD COLUMN webhook_disabled_at timestamptz,
    ADD COLUMN webhook_disabled_reason text,
    ADD CONSTRAINT spokes_webhook_secret CHECK (webhook_url IS NULL OR webhook_secret IS NOT NULL);

-- Local dates the hub is closed all day; they stop the turnaround clock.
CREATE TABLE hub_holidays (
    day   date PRIMARY KEY,
    name  text NOT NULL CHECK (length(name) BETWEEN 1 AND 100)
);

CREATE TABLE econsults (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    spoke_id             bigint NOT NULL REFERENCES spokes (id),
    patient_id           uuid NOT NULL,
    service_id           bigint NOT NULL REFERENCES services (id),
    referring_clinician  text NOT NULL CHECK (length(referring_clinician) BETWEEN 1 AND 200),
    question             text NOT NULL CHECK (length(question) BETWEEN 1 AND 10000),
    clinical_context     jsonb NOT NULL DEFAULT '{}',
    urgency              text NOT NULL CHECK (urgency IN ('routine', 'urgent')),
    status               text NOT NULL DEFAULT 'submitted' CHECK (status IN (
                             'submitted', 'assigned', 'awaiting_clinic', 'answered', 'closed',
                             'cancelled')),
    consultant_id        bigint REFERENCES consultants (id),
    booking_id           uuid UNIQUE REFERENCES bookings (id),  -- a booked review slot
    submitted_at         timestamptz NOT NULL DEFAULT now(),
    due_at               timestamptz NOT NULL,
    paused_at            timestamptz,  -- the clock stops while the hub waits on the clinic
    answered_at          timestamptz,
    closed_at            timestamptz,
    created_by           text NOT NULL,
    FOREIGN KEY (patient_id, spoke_id) REFERENCES patients (id, spoke_id),
    CHECK ((status = 'awaiting_clinic') = (paused_at IS NOT NULL)),
    CHECK (status NOT IN ('assigned', 'awaiting_clinic', 'answered', 'closed')
           OR consultant_id IS NOT NULL)
);
CREATE INDEX econsults_spoke ON econsults (spoke_id, submitted_at);
CREATE INDEX econsults_open ON econsults (due_at) WHERE status IN ('submitted', 'assigned');
CREATE INDEX econsults_consultant ON econsults (consultant_id, status);

CREATE TABLE econsult_messages (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    econsult_id   uuid NOT NULL REFERENCES econsults (id),
    side          text NOT NULL CHECK (side IN ('hub', 'spoke')),
    author        text NOT NULL,
    body          text NOT NULL CHECK (length(body) BETWEEN 1 AND 10000),
    asks_clinic   boolean NOT NULL DEFAULT false,  -- a hub question that pauses the clock
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (side = 'hub' OR NOT asks_clinic)
);
CREATE INDEX econsult_messages_thread ON econsult_messages (econsult_id, id);

-- A consult note answers an e-consult or documents a booked session. Versions of one
-- subject form a chain: version 1, then amendments. A signed version never changes.
CREATE TABLE consult_notes (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    econsult_id    uuid REFERENCES econsults (id),
    booking_id     uuid REFERENCES bookings (id),
    spoke_id       bigint NOT NULL REFERENCES spokes (id),
    patient_id     uuid NOT NULL,
    consultant_id  bigint NOT NULL REFERENCES consultants (id),
    version        integer NOT NULL CHECK (version >= 1),
    sections       jsonb NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    signed_at      timestamptz,
    signed_by      text,
    FOREIGN KEY (patient_id, spoke_id) REFERENCES patients (id, spoke_id),
    CHECK ((econsult_id IS NULL) <> (booking_id IS NULL)),
    CHECK ((signed_at IS NULL) = (signed_by IS NULL))
);
CREATE UNIQUE INDEX consult_notes_econsult_version ON consult_notes (econsult_id, version)
    WHERE econsult_id IS NOT NULL;
CREATE UNIQUE INDEX consult_notes_booking_version ON consult_notes (booking_id, version)
    WHERE booking_id IS NOT NULL;
-- One draft at a time per subject.
CREATE UNIQUE INDEX consult_notes_one_econsult_draft ON consult_notes (econsult_id)
    WHERE econsult_id IS NOT NULL AND signed_at IS NULL;
CREATE UNIQUE INDEX consult_notes_one_booking_draft ON consult_notes (booking_id)
    WHERE booking_id IS NOT NULL AND signed_at IS NULL;
CREATE INDEX consult_notes_spoke ON consult_notes (spoke_id, signed_at);

-- A signed note is a legal record: the database refuses any change or deletion.
CREATE FUNCTION consult_notes_signed_are_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.signed_at IS NOT NULL THEN
        RAISE EXCEPTION 'consult note % is signed and cannot change', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE TRIGGER consult_notes_signed_are_final BEFORE UPDATE OR DELETE ON consult_notes
    FOR EACH ROW EXECUTE FUNCTION consult_notes_signed_are_final();

-- The clinic's acknowledgement of a signed note: the loop closes here.
CREATE TABLE note_acknowledgements (
    note_id          uuid PRIMARY KEY REFERENCES consult_notes (id),
    acknowledged_at  timestamptz NOT NULL DEFAULT now(),
    acknowledged_by  text NOT NULL
);

-- Events to deliver to a spoke's webhook, written in the transaction that caused them.
-- Delivery leases a row (next_attempt_at in the future) instead of holding a lock across
-- the HTTP call; a process that dies mid-delivery simply lets the lease run out.
CREATE TABLE outbox (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id       text NOT NULL UNIQUE,  -- Standard Webhooks `webhook-id`, kept across retries
    spoke_id         bigint NOT NULL REFERENCES spokes (id),
    event_type       text NOT NULL,
    payload          jsonb NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz,
    failed_at        timestamptz,  -- retries exhausted: kept, shown to the hub, retried by hand
    last_status      integer,
    last_error       text
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE delivered_at IS NULL AND failed_at IS NULL;
CREATE INDEX outbox_spoke ON outbox (spoke_id, created_at);
