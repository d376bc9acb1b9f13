-- Scheduling's lock on consultants' time as one function (issue 16), so that a booking can take
-- it in the round trip that opens its transaction: queue behind every other transaction
-- writing these consultants' time (advisory locks, in one order, so two writers locking the
-- same consultants cannot deadlock), then end their lapsed slot holds as of `as_of` (the app's
-- clock), freeing those minutes before anyone checks and writes (migration 023).
-- The lock key class 0x7E1E0B0C is this function's alone (scheduling/booking_store.py says so).
CREATE FUNCTION expire_lapsed_holds(consultant_ids bigint[], as_of timestamptz)
RETURNS integer
LANGUAGE sql VOLATILE AS $$
    WITH ended AS (
        UPDATE slot_holds SET status = 'expired', ended_at = expires_at
        WHERE status = 'active' AND expires_at <= as_of
          AND (consultant_ids IS NULL OR consultant_id = ANY (consultant_ids))
        RETURNING 1
    )
    SELECT count(*)::integer FROM ended;
$$;

CREATE FUNCTION lock_consultants_time(consultant_ids bigint[], as_of timestamptz)
RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    k integer;
BEGIN
    FOR k IN
        SELECT DISTINCT (c % 2147483648)::integer FROM unnest(consultant_ids) c ORDER BY 1
    LOOP
        PERFORM pg_advisory_xact_lock(2115898124, k);  -- 0x7E1E0B0C, CONSULTANT_TIME
    END LOOP;
    RETURN expire_lapsed_holds(consultant_ids, as_of);
END
$$;
