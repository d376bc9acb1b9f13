-- The video session booked on an e-consult's recommendation: one at a time.
ALTER TABLE econsults ADD COLUMN visit_booking_id uuid UNIQUE REFERENCES bookings (id);
