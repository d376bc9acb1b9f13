-- Sign-in hardening. The per-email throttle gives way to the shared `throttle` (008), which
-- counts each attempt before the password is checked. A second factor (TOTP, RFC 6238):
-- required for hub staff and consultants, and for the staff of a clinic that asks for it.
DROP TABLE login_throttle;

ALTER TABLE spokes ADD COLUMN mfa_required boolean NOT NULL DEFAULT false;

-- A user's authenticator: the TOTP secret sealed with AES-GCM under a key derived from the
-- app's secret key (never stored plain), and the last time step used, so a code cannot be
-- used twice (RFC 6238 §5.2).
CREATE TABLE user_mfa (
    user_id        bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret_sealed  bytea NOT NULL,
    last_step      bigint NOT NULL,
    enrolled_at    timestamptz NOT NULL DEFAULT now()
);

-- One-time recovery codes, kept only as keyed hashes; a used code stays, marked.
CREATE TABLE mfa_recovery_codes (
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  bytea NOT NULL,
    used_at    timestamptz,
    PRIMARY KEY (user_id, code_hash)
);

-- Half signed in: the password was right, the second factor is still to come. Short-lived,
-- and no session: the cookie's token (only its hash is kept) opens the code or enrolment page
-- and nothing else. A secret being enrolled waits here, sealed, until a code confirms it.
CREATE TABLE signin_pending (
    token_hash          bytea PRIMARY KEY,
    user_id             bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    next                text NOT NULL DEFAULT '',
    enrol_secret_sealed bytea,
    expires_at          timestamptz NOT NULL
);
CREATE INDEX signin_pending_user ON signin_pending (user_id);
