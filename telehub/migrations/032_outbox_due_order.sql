-- The outbox's lease takes the due events in (next_attempt_at, id) order, ten at a time
-- (consults/delivery_store.py). Events queued in one transaction share their next_attempt_at,
-- so an index on next_attempt_at alone made PostgreSQL sort every due event to take ten: 2.7 ms
-- a lease with 5,000 due, 0.26 ms with the order in the index (measured by the bench's outbox
-- drain curve, issue 16).
DROP INDEX outbox_due;
CREATE INDEX outbox_due ON outbox (next_attempt_at, id)
    WHERE delivered_at IS NULL AND failed_at IS NULL AND held_at IS NULL;
