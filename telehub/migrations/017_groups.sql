-- Group sessions (issue 12): a counselor's recurring group that patients of several clinics
-- join, seats that can never exceed capacity, attendance, per-patient notes, waitlists.
--
-- Every minute a consultant is held, by a booking or by a group's occurrence, is one row of
-- consultant_holds, under ONE exclusion constraint: no 1:1 booking lands on a group's time and
-- no group is created over a booking, under any concurrency, from any number of processes.
-- Triggers keep the holds of bookings and occurrences in step inside the writing transaction,
-- so the write paths stay as they are and a conflict surfaces as the same ExclusionViolation.

ALTER TABLE services DROP CONSTRAINT services_kind_check;
ALTER TABLE services ADD CONSTRAINT services_kind_check
    CHECK (kind IN ('econsult', 'video_session', 'case_review', 'group_session'));

CREATE TABLE groups (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    service_id     bigint NOT NULL REFERENCES services (id),
    consultant_id  bigint NOT NULL REFERENCES consultants (id),
    title          text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    capacity       integer NOT NULL CHECK (capacity BETWEEN 2 AND 30),
    repeat         text NOT NULL CHECK (repeat IN ('once', 'weekly', 'every_2_weeks')),
    count          integer NOT NULL CHECK (count BETWEEN 1 AND 52),
    first_start    timestamptz NOT NULL,
    zone           text NOT NULL,  -- the counselor's: occurrences keep its wall-clock time
    created_by     text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (repeat <> 'once' OR count = 1)
);
CREATE INDEX groups_service ON groups (service_id);
CREATE INDEX groups_consultant ON groups (consultant_id);

CREATE TABLE group_occurrences (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    group_id       uuid NOT NULL REFERENCES groups (id),
    position       integer NOT NULL CHECK (position BETWEEN 1 AND 52),
    consultant_id  bigint NOT NULL REFERENCES consultants (id),
    period         tstzrange NOT NULL,
    blocked        tstzrange NOT NULL,  -- period widened by the service's buffers
    capacity       integer NOT NULL CHECK (capacity BETWEEN 2 AND 30),
    status         text NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'cancelled')),
    video_link     text UNIQUE,
    cancelled_at   timestamptz,
    cancel_reason  text CHECK (length(cancel_reason) <= 500),
    UNIQUE (group_id, position),
    CHECK (NOT isempty(period) AND lower_inc(period) AND NOT upper_inc(period)),
    CHECK (blocked @> period),
    CHECK ((status = 'cancelled') = (cancelled_at IS NOT NULL))
);
CREATE INDEX group_occurrences_time ON group_occurrences (lower(period));

-- Every held minute of a consultant: one constraint for bookings and groups alike.
CREATE TABLE consultant_holds (
    booking_id           uuid UNIQUE REFERENCES bookings (id) ON DELETE CASCADE,
    group_occurrence_id  uuid UNIQUE REFERENCES group_occurrences (id) ON DELETE CASCADE,
    consultant_id        bigint NOT NULL,
    blocked              tstzrange NOT NULL,
    CHECK ((booking_id IS NULL) <> (group_occurrence_id IS NULL)),
    -- int8range stands in for `consultant_id WITH =` (no btree_gist), as in bookings_no_overlap.
    CONSTRAINT consultant_holds_no_overlap EXCLUDE USING gist (
        int8range(consultant_id, consultant_id, '[]') WITH &&,
        blocked WITH &&
    )
);
INSERT INTO consultant_holds (booking_id, consultant_id, blocked)
    SELECT id, consultant_id, blocked FROM bookings WHERE status <> 'cancelled';

CREATE FUNCTION hold_booking() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'cancelled' THEN
        DELETE FROM consultant_holds WHERE booking_id = NEW.id;
    ELSIF TG_OP = 'INSERT' OR OLD.status = 'cancelled' THEN
        INSERT INTO consultant_holds (booking_id, consultant_id, blocked)
            VALUES (NEW.id, NEW.consultant_id, NEW.blocked);
    ELSIF NEW.blocked IS DISTINCT FROM OLD.blocked
          OR NEW.consultant_id IS DISTINCT FROM OLD.consultant_id THEN
        UPDATE consultant_holds SET consultant_id = NEW.consultant_id, blocked = NEW.blocked
            WHERE booking_id = NEW.id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER bookings_hold AFTER INSERT OR UPDATE OF status, blocked, consultant_id
    ON bookings FOR EACH ROW EXECUTE FUNCTION hold_booking();

CREATE FUNCTION hold_group_occurrence() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'cancelled' THEN
        DELETE FROM consultant_holds WHERE group_occurrence_id = NEW.id;
    ELSIF TG_OP = 'INSERT' OR OLD.status = 'cancelled' THEN
        INSERT INTO consultant_holds (group_occurrence_id, consultant_id, blocked)
            VALUES (NEW.id, NEW.consultant_id, NEW.blocked);
    ELSIF NEW.blocked IS DISTINCT FROM OLD.blocked
          OR NEW.consultant_id IS DISTINCT FROM OLD.consultant_id THEN
        UPDATE consultant_holds SET consultant_id = NEW.consultant_id, blocked = NEW.blocked
            WHERE group_occurrence_id = NEW.id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER group_occurrences_hold AFTER INSERT OR UPDATE OF status, blocked, consultant_id
    ON group_occurrences FOR EACH ROW EXECUTE FUNCTION hold_group_occurrence();

-- A patient's place in a group, from one occurrence on (until withdrawn from one on).
CREATE TABLE group_enrolments (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    group_id         uuid NOT NULL REFERENCES groups (id),
    spoke_id         bigint NOT NULL REFERENCES spokes (id),
    patient_id       uuid NOT NULL,
    from_position    integer NOT NULL CHECK (from_position >= 1),
    withdrawn_from   integer CHECK (withdrawn_from >= from_position),
    created_by       text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (patient_id, spoke_id) REFERENCES patients (id, spoke_id)
);
-- One enrolment a patient a group while it lasts.
CREATE UNIQUE INDEX group_enrolments_one_open ON group_enrolments (group_id, patient_id)
    WHERE withdrawn_from IS NULL;
CREATE INDEX group_enrolments_spoke ON group_enrolments (spoke_id, group_id);

-- A seat in one occurrence. Seat numbers run 1..capacity and are unique per occurrence while
-- held, so PostgreSQL itself makes more seats than capacity impossible.
CREATE TABLE group_seats (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    occurrence_id   uuid NOT NULL REFERENCES group_occurrences (id),
    enrolment_id    uuid NOT NULL REFERENCES group_enrolments (id),
    spoke_id        bigint NOT NULL REFERENCES spokes (id),
    patient_id      uuid NOT NULL,
    seat_no         integer NOT NULL CHECK (seat_no BETWEEN 1 AND 30),
    capacity        integer NOT NULL CHECK (seat_no <= capacity),
    attendance      text NOT NULL DEFAULT 'expected'
                    CHECK (attendance IN ('expected', 'excused', 'attended', 'no_show', 'released')),
    recorded_at     timestamptz,
    recorded_by     text,
    FOREIGN KEY (patient_id, spoke_id) REFERENCES patients (id, spoke_id),
    UNIQUE (occurrence_id, enrolment_id)
);
CREATE UNIQUE INDEX group_seats_held ON group_seats (occurrence_id, seat_no)
    WHERE attendance <> 'released';
CREATE INDEX group_seats_spoke ON group_seats (spoke_id, occurrence_id);

-- A full group's waitlist: first come, first served; a freed seat goes to the first waiting.
CREATE TABLE group_waitlist (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    group_id      uuid NOT NULL REFERENCES groups (id),
    spoke_id      bigint NOT NULL REFERENCES spokes (id),
    patient_id    uuid NOT NULL,
    status        text NOT NULL DEFAULT 'waiting' CHECK (status IN ('waiting', 'assigned', 'left')),
    enrolment_id  uuid REFERENCES group_enrolments (id),
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    settled_at    timestamptz,
    FOREIGN KEY (patient_id, spoke_id) REFERENCES patients (id, spoke_id),
    CHECK ((status = 'assigned') = (enrolment_id IS NOT NULL))
);
CREATE UNIQUE INDEX group_waitlist_one_waiting ON group_waitlist (group_id, patient_id)
    WHERE status = 'waiting';
CREATE INDEX group_waitlist_order ON group_waitlist (group_id, created_at) WHERE status = 'waiting';

-- A group session's progress note is per attending patient: its subject is that patient's seat.
ALTER TABLE consult_notes ADD COLUMN group_seat_id uuid REFERENCES group_seats (id);
ALTER TABLE consult_notes DROP CONSTRAINT consult_notes_check;
ALTER TABLE consult_notes ADD CONSTRAINT consult_notes_one_subject
    CHECK (num_nonnulls(econsult_id, booking_id, group_seat_id) = 1);
CREATE UNIQUE INDEX consult_notes_group_seat_version ON consult_notes (group_seat_id, version)
    WHERE group_seat_id IS NOT NULL;
CREATE UNIQUE INDEX consult_notes_one_group_seat_draft ON consult_notes (group_seat_id)
    WHERE group_seat_id IS NOT NULL AND signed_at IS NULL;

-- 1:1 waitlist: tell a clinic when an earlier time opens for a service.
CREATE TABLE slot_waitlist (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    spoke_id       bigint NOT NULL REFERENCES spokes (id),
    patient_id     uuid,
    service_id     bigint NOT NULL REFERENCES services (id),
    consultant_id  bigint REFERENCES consultants (id),
    role           text,
    patient_state  text NOT NULL CHECK (patient_state ~ '^[A-Z]{2}$'),
    latest_date    date NOT NULL,
    status         text NOT NULL DEFAULT 'waiting' CHECK (status IN ('waiting', 'told', 'left')),
    told_slot      tstzrange,
    created_by     text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    settled_at     timestamptz,
    FOREIGN KEY (patient_id, spoke_id) REFERENCES patients (id, spoke_id),
    CHECK (consultant_id IS NULL OR role IS NULL)
);
CREATE INDEX slot_waitlist_service ON slot_waitlist (service_id, created_at) WHERE status = 'waiting';
CREATE INDEX slot_waitlist_spoke ON slot_waitlist (spoke_id, created_at);
