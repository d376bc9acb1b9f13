-- Wake every delivery worker when an outbox event becomes due now: enqueued, released after
-- an endpoint came back, or retried by hand. A trigger, so no code path can forget it;
-- NOTIFY is delivered at commit (never for a rolled-back transaction) to every process that
-- LISTENs (consults.delivery), and repeats within one transaction are folded into one.
-- A claim or a failed attempt moves the event into the future and notifies nobody.
CREATE FUNCTION outbox_notify_due() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM changed
        WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= now()
    ) THEN
        PERFORM pg_notify('outbox_due', '');
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER outbox_inserted_due AFTER INSERT ON outbox
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify_due();

CREATE TRIGGER outbox_updated_due AFTER UPDATE ON outbox
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify_due();
