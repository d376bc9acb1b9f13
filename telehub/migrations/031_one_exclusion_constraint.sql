-- One exclusion constraint for a consultant's time (issue 16). Since migration 017 every held
-- minute of a consultant, a booking's, a group occurrence's or a slot hold's, sits in
-- consultant_holds (a booking's row is written by its trigger, in the booking's statement, and
-- removed when it is cancelled), under consultant_holds_no_overlap. bookings_no_overlap said the
-- same thing again for bookings alone, and cost every booking a second GiST insert and search
-- (about a fifth of its write, measured). A double booking is still impossible, under any
-- concurrency: the trigger's insert into consultant_holds fails and the booking with it.
ALTER TABLE bookings DROP CONSTRAINT bookings_no_overlap;
