"""Services, availability, the slot engine and bookings."""
