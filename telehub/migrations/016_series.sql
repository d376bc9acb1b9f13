-- A course of sessions (scheduling/series.py): one service with one consultant for one
-- patient, booked all or none. Each session is an ordinary booking that knows its series and
-- its place in it ("session 3 of 12"), so feeds, pages and the booking endpoints treat it as
-- one booking, held by the same exclusion constraint.
CREATE TABLE series (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    spoke_id       bigint NOT NULL REFERENCES spokes (id),
    patient_id     uuid NOT NULL,
    service_id     bigint NOT NULL REFERENCES services (id),
    consultant_id  bigint NOT NULL REFERENCES consultants (id),
    repeat         text NOT NULL CHECK (repeat IN ('weekly', 'every_2_weeks')),
    count          integer NOT NULL CHECK (count BETWEEN 1 AND 26),
    first_start    timestamptz NOT NULL,
    zone           text NOT NULL,  -- the clinic's, whose wall-clock time the sessions keep
    reason         text NOT NULL DEFAULT '' CHECK (length(reason) <= 2000),
    created_by     text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (patient_id, spoke_id) REFERENCES patients (id, spoke_id),
    UNIQUE (id, spoke_id)
);
CREATE INDEX series_patient ON series (patient_id, created_at);

ALTER TABLE bookings
    ADD COLUMN series_id uuid,
    ADD COLUMN series_position integer CHECK (series_position BETWEEN 1 AND 26),
    -- A session belongs to a series of its own clinic, at one position.
    ADD FOREIGN KEY (series_id, spoke_id) REFERENCES series (id, spoke_id),
    ADD CHECK ((series_id IS NULL) = (series_position IS NULL));
CREATE UNIQUE INDEX bookings_series_position ON bookings (series_id, series_position)
    WHERE series_id IS NOT NULL;
