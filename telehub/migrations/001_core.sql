-- The booking core: the network, its people and clients, availability, patients, bookings.
-- Every time is timestamptz (stored UTC). Invariants live here, not in Python.

CREATE TABLE spokes (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug            text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    state           text NOT NULL CHECK (state ~ '^[A-Z]{2}$'),
    timezone        text NOT NULL,
    webhook_url     text,
    webhook_secret  text,
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE consultants (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    credentials      text NOT NULL DEFAULT '' CHECK (length(credentials) <= 100),
    role             text NOT NULL CHECK (role IN (
                         'psychiatric_consultant', 'addiction_medicine_specialist',
                         'telehealth_counselor', 'peer_recovery_specialist')),
    timezone         text NOT NULL,
    licensed_states  text[] NOT NULL DEFAULT '{}',
    active           boolean NOT NULL DEFAULT true,
    created_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE services (
    id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind                   text NOT NULL CHECK (kind IN ('econsult', 'video_session', 'case_review')),
    name                   text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    duration_minutes       integer NOT NULL CHECK (duration_minutes BETWEEN 5 AND 480),
    buffer_before_minutes  integer NOT NULL DEFAULT 0 CHECK (buffer_before_minutes BETWEEN 0 AND 120),
    buffer_after_minutes   integer NOT NULL DEFAULT 0 CHECK (buffer_after_minutes BETWEEN 0 AND 120),
    interval_minutes       integer CHECK (interval_minutes BETWEEN 5 AND 480),
    min_notice_minutes     integer NOT NULL DEFAULT 0 CHECK (min_notice_minutes BETWEEN 0 AND 43200),
    horizon_days           integer NOT NULL DEFAULT 60 CHECK (horizon_days BETWEEN 1 AND 365),
    turnaround_hours       integer CHECK (turnaround_hours BETWEEN 1 AND 720),
    roles                  text[] NOT NULL CHECK (cardinality(roles) > 0),
    active                 boolean NOT NULL DEFAULT true,
    created_at             timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE consultant_services (
    consultant_id  bigint NOT NULL REFERENCES consultants (id) ON DELETE CASCADE,
    service_id     bigint NOT NULL REFERENCES services (id),
    PRIMARY KEY (consultant_id, service_id)
);

CREATE TABLE availability_rules (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    consultant_id  bigint NOT NULL REFERENCES consultants (id) ON DELETE CASCADE,
    weekday        smallint NOT NULL CHECK (weekday BETWEEN 0 AND 6),  -- 0 = Monday
    start_time     time NOT NULL,
    end_time       time NOT NULL,  -- 00:00 means midnight at the end of the day
    service_ids    bigint[],       -- NULL: every service the consultant offers
    valid_from     date,
    valid_until    date,
    CHECK (end_time > start_time OR end_time = '00:00'),
    CHECK (valid_until IS NULL OR valid_from IS NULL OR valid_until >= valid_from)
);
CREATE INDEX availability_rules_consultant ON availability_rules (consultant_id);

CREATE TABLE availability_exceptions (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    consultant_id  bigint NOT NULL REFERENCES consultants (id) ON DELETE CASCADE,
    kind           text NOT NULL CHECK (kind IN ('time_off', 'extra_hours')),
    period         tstzrange NOT NULL
                   CHECK (NOT isempty(period) AND lower_inc(period) AND NOT upper_inc(period)
                          AND NOT lower_inf(period) AND NOT upper_inf(period)),
    service_ids    bigint[],
    note           text NOT NULL DEFAULT '' CHECK (length(note) <= 200)
);
CREATE INDEX availability_exceptions_consultant ON availability_exceptions (consultant_id, upper(period));

CREATE TABLE api_clients (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id      text NOT NULL UNIQUE,
    name           text NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('hub_admin', 'consultant', 'spoke')),
    spoke_id       bigint REFERENCES spokes (id),
    consultant_id  bigint REFERENCES consultants (id),
    secret_hash    bytea,   -- sha256 of a 256-bit random secret
    jwks           jsonb,   -- public keys for private_key_jwt
    scopes         text[] NOT NULL,
    active         boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (secret_hash IS NOT NULL OR jwks IS NOT NULL),
    CHECK ((kind = 'spoke') = (spoke_id IS NOT NULL)),
    CHECK ((kind = 'consultant') = (consultant_id IS NOT NULL))
);

-- Client-assertion ids seen, so a private_key_jwt assertion is accepted once.
CREATE TABLE oauth_assertions_seen (
    client_id   text NOT NULL,
    jti         text NOT NULL,
    expires_at  timestamptz NOT NULL,
    PRIMARY KEY (client_id, jti)
);

CREATE TABLE users (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email          text NOT NULL UNIQUE CHECK (email = lower(email) AND email LIKE '%_@_%'),
    name           text NOT NULL,
    password_hash  text NOT NULL,
    role           text NOT NULL CHECK (role IN (
                       'hub_admin', 'hub_coordinator', 'consultant', 'spoke_scheduler', 'spoke_clinician')),
    spoke_id       bigint REFERENCES spokes (id),
    consultant_id  bigint REFERENCES consultants (id),
    active         boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((role IN ('spoke_scheduler', 'spoke_clinician')) = (spoke_id IS NOT NULL)),
    CHECK ((role = 'consultant') = (consultant_id IS NOT NULL))
);

CREATE TABLE patients (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    spoke_id    bigint NOT NULL REFERENCES spokes (id),
    mrn         text NOT NULL CHECK (length(mrn) BETWEEN 1 AND 64),
    given_name  text NOT NULL CHECK (length(given_name) BETWEEN 1 AND 100),
    family_name text NOT NULL CHECK (length(family_name) BETWEEN 1 AND 100),
    birth_date  date NOT NULL,
    state       text NOT NULL CHECK (state ~ '^[A-Z]{2}$'),
    phone       text,
    email       text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (spoke_id, mrn),
    UNIQUE (id, spoke_id)
);

CREATE TABLE bookings (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    service_id     bigint NOT NULL REFERENCES services (id),
    consultant_id  bigint NOT NULL REFERENCES consultants (id),
    spoke_id       bigint NOT NULL REFERENCES spokes (id),
    patient_id     uuid NOT NULL,
    period         tstzrange NOT NULL,
    blocked        tstzrange NOT NULL,  -- period widened by the service's buffers
    status         text NOT NULL DEFAULT 'booked'
                   CHECK (status IN ('booked', 'cancelled', 'completed', 'no_show')),
    reason         text NOT NULL DEFAULT '' CHECK (length(reason) <= 2000),
    video_link     text UNIQUE,
    sequence       integer NOT NULL DEFAULT 0,
    created_by     text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    cancelled_at   timestamptz,
    cancelled_by   text,
    cancel_reason  text CHECK (length(cancel_reason) <= 500),
    -- The patient belongs to the booking's spoke: tenancy held by the schema.
    FOREIGN KEY (patient_id, spoke_id) REFERENCES patients (id, spoke_id),
    CHECK (NOT isempty(period) AND lower_inc(period) AND NOT upper_inc(period)
           AND NOT lower_inf(period) AND NOT upper_inf(period)),
    CHECK (blocked @> period),
    CHECK ((status = 'cancelled') = (cancelled_at IS NOT NULL)),
    -- No double booking, under any concurrency, from any number of processes. The one-point
    -- integer range stands in for `consultant_id WITH =` (no btree_gist in embedded PostgreSQL).
    CONSTRAINT bookings_no_overlap EXCLUDE USING gist (
        int8range(consultant_id, consultant_id, '[]') WITH &&,
        blocked WITH &&
    ) WHERE (status <> 'cancelled')
);
CREATE INDEX bookings_consultant_time ON bookings (consultant_id, upper(blocked))
    WHERE status <> 'cancelled';
CREATE INDEX bookings_spoke_time ON bookings (spoke_id, lower(period));
CREATE INDEX bookings_patient ON bookings (patient_id);

CREATE TABLE idempotency_keys (
    owner            text NOT NULL,   -- the API client: keys are per caller
    key              text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash     bytea NOT NULL,
    state            text NOT NULL CHECK (state IN ('in_flight', 'done')),
    response_status  integer,
    response_body    text,     -- byte-for-byte what was answered
    locked_at        timestamptz NOT NULL DEFAULT now(),
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (owner, key),
    CHECK ((state = 'done') = (response_status IS NOT NULL))
);

CREATE TABLE audit_log (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    actor        text NOT NULL,
    action       text NOT NULL CHECK (action IN ('read', 'create', 'update', 'cancel', 'delete')),
    record_type  text NOT NULL,
    record_id    text NOT NULL,
    spoke_id     bigint,
    request_id   text,
    remote_addr  text
);
CREATE INDEX audit_log_record ON audit_log (record_type, record_id);
CREATE INDEX audit_log_at ON audit_log (at);
