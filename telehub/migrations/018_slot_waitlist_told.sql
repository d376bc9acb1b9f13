-- 1:1 waitlist (issue 12): the slot a request was told of names its consultant too, since a
-- request for a role (or any consultant) is told of one consultant's time.
ALTER TABLE slot_waitlist ADD COLUMN told_consultant_id bigint REFERENCES consultants (id);
ALTER TABLE slot_waitlist ADD COLUMN told_at timestamptz;
ALTER TABLE slot_waitlist ADD CONSTRAINT slot_waitlist_told_whole
    CHECK ((told_slot IS NULL) = (told_consultant_id IS NULL)
           AND (told_slot IS NULL) = (told_at IS NULL));
