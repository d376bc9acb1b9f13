-- Holds: a clinic's few-minute claim on an open slot while a person or a system completes the
-- booking. A hold's minutes sit in consultant_holds under the one exclusion constraint that
-- bookings and groups share, so no one else can book or hold them; it expires by itself.
--
-- Expiry needs no job: an active hold past `expires_at` is ignored by slot search (its
-- consultant_holds row carries the expiry), and every writer of a consultant's time, under
-- that consultant's time lock, first ends the consultant's lapsed holds (status 'expired',
-- which frees their minutes) before it checks and writes.
CREATE TABLE slot_holds (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    spoke_id       bigint NOT NULL REFERENCES spokes (id),
    consultant_id  bigint NOT NULL REFERENCES consultants (id),
    service_id     bigint NOT NULL REFERENCES services (id),
    patient_id     uuid,  -- optional: a hold may be taken before the patient is chosen
    period         tstzrange NOT NULL,
    blocked        tstzrange NOT NULL,  -- the period widened by the service's buffers
    expires_at     timestamptz NOT NULL,
    status         text NOT NULL DEFAULT 'active'
                   CHECK (status IN ('active', 'booked', 'released', 'expired')),
    -- The booking a hold became. Checked at commit: the hold ends (freeing its minutes) and
    -- the booking with this id is written after it, in one transaction.
    booking_id     uuid UNIQUE REFERENCES bookings (id) DEFERRABLE INITIALLY DEFERRED,
    created_by     text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    ended_at       timestamptz,
    FOREIGN KEY (patient_id, spoke_id) REFERENCES patients (id, spoke_id),
    CHECK (NOT isempty(period) AND lower_inc(period) AND NOT upper_inc(period)
           AND NOT lower_inf(period) AND NOT upper_inf(period)),
    CHECK (blocked @> period),
    CHECK (expires_at > created_at),
    CHECK ((status = 'booked') = (booking_id IS NOT NULL)),
    CHECK ((status = 'active') = (ended_at IS NULL))
);
CREATE INDEX slot_holds_active ON slot_holds (consultant_id, expires_at) WHERE status = 'active';
CREATE INDEX slot_holds_spoke ON slot_holds (spoke_id, created_at);

ALTER TABLE consultant_holds ADD COLUMN slot_hold_id uuid UNIQUE
    REFERENCES slot_holds (id) ON DELETE CASCADE;
-- A slot hold's expiry: after it, slot search no longer counts these minutes as taken.
ALTER TABLE consultant_holds ADD COLUMN expires_at timestamptz;
ALTER TABLE consultant_holds DROP CONSTRAINT consultant_holds_check;
ALTER TABLE consultant_holds ADD CONSTRAINT consultant_holds_one_source
    CHECK (num_nonnulls(booking_id, group_occurrence_id, slot_hold_id) = 1);
ALTER TABLE consultant_holds ADD CONSTRAINT consultant_holds_expiry_of_a_hold
    CHECK ((slot_hold_id IS NULL) = (expires_at IS NULL));

CREATE FUNCTION hold_slot_hold() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' AND NEW.status = 'active' THEN
        INSERT INTO consultant_holds (slot_hold_id, consultant_id, blocked, expires_at)
            VALUES (NEW.id, NEW.consultant_id, NEW.blocked, NEW.expires_at);
    ELSIF TG_OP = 'UPDATE' AND OLD.status = 'active' AND NEW.status <> 'active' THEN
        DELETE FROM consultant_holds WHERE slot_hold_id = NEW.id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER slot_holds_hold AFTER INSERT OR UPDATE OF status ON slot_holds
    FOR EACH ROW EXECUTE FUNCTION hold_slot_hold();

-- A hold never changes its time, its consultant or its expiry once taken.
CREATE FUNCTION slot_holds_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.period IS DISTINCT FROM OLD.period OR NEW.blocked IS DISTINCT FROM OLD.blocked
       OR NEW.consultant_id IS DISTINCT FROM OLD.consultant_id
       OR NEW.expires_at IS DISTINCT FROM OLD.expires_at
       OR (OLD.status <> 'active' AND NEW.status IS DISTINCT FROM OLD.status) THEN
        RAISE EXCEPTION 'slot hold % cannot change but to end', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER slot_holds_fixed BEFORE UPDATE ON slot_holds
    FOR EACH ROW EXECUTE FUNCTION slot_holds_fixed();
