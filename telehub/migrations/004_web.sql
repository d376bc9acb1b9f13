-- Web sign-in: server-side sessions (the cookie holds a random token; only its hash is
-- kept) and a per-email throttle that slows down password guessing.
CREATE TABLE web_sessions (
    token_hash    bytea PRIMARY KEY,
    user_id       bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    flash         text
);
CREATE INDEX web_sessions_user ON web_sessions (user_id);

CREATE TABLE login_throttle (
    email          text PRIMARY KEY,
    failures       integer NOT NULL DEFAULT 0,
    blocked_until  timestamptz
);

-- A session that took place can be marked completed or a no-show (program measures).
CREATE INDEX bookings_status_time ON bookings (status, lower(period));
