"""The hub side of groups: roster, attendance, per-patient notes."""
