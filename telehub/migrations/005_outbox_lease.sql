-- A claimed event's lease, kept apart from its backoff: a manual retry must not resend an
-- event that a worker is delivering right now.
ALTER TABLE outbox ADD COLUMN leased_until timestamptz;
