-- Idempotency keys are now written in the same transaction as the work they protect, and a
-- transaction-scoped advisory lock marks a request in flight; no row is ever half done.
DELETE FROM idempotency_keys WHERE state <> 'done';
ALTER TABLE idempotency_keys
    DROP COLUMN state,
    DROP COLUMN locked_at,
    ALTER COLUMN response_status SET NOT NULL,
    ALTER COLUMN response_body SET NOT NULL;
