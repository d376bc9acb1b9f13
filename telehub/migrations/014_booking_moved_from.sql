-- A rescheduled booking remembers the start it was moved from, so the clinic's page can say
-- "Moved from Tue 2 Mar 2027, 10:00" (the audit log says that it changed, not from what).
-- NULL: never moved to another time.
ALTER TABLE bookings ADD COLUMN moved_from timestamptz;
