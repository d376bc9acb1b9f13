-- Secret calendar-feed URLs for consultants and clinics. Only a hash of each token is kept;
-- rotating revokes the old token at once. One active token per owner.
CREATE TABLE feed_tokens (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    consultant_id  bigint REFERENCES consultants (id),
    spoke_id       bigint REFERENCES spokes (id),
    token_hash     bytea NOT NULL UNIQUE,
    created_at     timestamptz NOT NULL DEFAULT now(),
    revoked_at     timestamptz,
    CHECK ((consultant_id IS NULL) <> (spoke_id IS NULL))
);
CREATE UNIQUE INDEX feed_tokens_consultant_active ON feed_tokens (consultant_id)
    WHERE revoked_at IS NULL AND consultant_id IS NOT NULL;
CREATE UNIQUE INDEX feed_tokens_spoke_active ON feed_tokens (spoke_id)
    WHERE revoked_at IS NULL AND spoke_id IS NOT NULL;
