-- The core's public face in SQL (issue 16): what a package's one-statement write may call so
-- that the booking path stays near four round trips, without any package writing the core's
-- tables itself. telehub/idempotency.py and telehub/audit.py use these same functions, so the
-- rules live in one place.

-- Claim an Idempotency-Key for this transaction, or refuse at once: another transaction holds
-- it (the first request with the key is still in flight). SQLSTATE TH409 is telehub's own.
CREATE FUNCTION idempotency_claim(lock_id bigint) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF NOT pg_try_advisory_xact_lock(lock_id) THEN
        RAISE EXCEPTION 'the first request with this Idempotency-Key is still being processed'
            USING ERRCODE = 'TH409';
    END IF;
END
$$;

-- The answer kept for a key, if any (read after the claim, so it sees the holder before).
CREATE FUNCTION idempotency_answer(key_owner text, key_text text)
RETURNS TABLE (request_hash bytea, response_status integer, response_body text)
LANGUAGE sql STABLE AS $$
    SELECT request_hash, response_status, response_body FROM idempotency_keys
    WHERE owner = key_owner AND key = key_text
$$;

-- Keep a success's answer for its key, in the transaction that did the work.
CREATE FUNCTION idempotency_keep(
    key_owner text, key_text text, hash bytea, status integer, body text
) RETURNS integer
LANGUAGE sql VOLATILE AS $$
    INSERT INTO idempotency_keys (owner, key, request_hash, response_status, response_body)
    VALUES (key_owner, key_text, hash, status, body);
    SELECT 1;
$$;

-- One audit row per record id, in the caller's transaction; how many were written.
CREATE FUNCTION audit_write(
    who text, what text, kind text, ids text[], spoke bigint, request text, address text
) RETURNS integer
LANGUAGE sql VOLATILE AS $$
    WITH written AS (
        INSERT INTO audit_log (actor, action, record_type, record_id, spoke_id, request_id,
                               remote_addr)
        SELECT who, what, kind, unnest(ids), spoke, request, address
        RETURNING 1
    )
    SELECT count(*)::integer FROM written;
$$;
