-- One throttle for every kind of repeated failure (sign-in by account and by address, the
-- token endpoint by client and by address). Each attempt is counted by one atomic statement
-- *before* the credential is checked, so parallel guesses cannot slip past the count.
-- Subjects are kept as SHA-256 digests: no e-mail address or IP address is stored here.
CREATE TABLE throttle (
    limit_name     text NOT NULL,
    subject        bytea NOT NULL,
    attempts       integer NOT NULL,
    blocked_until  timestamptz,
    passed         boolean NOT NULL,  -- whether the latest attempt was let through
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (limit_name, subject)
);
