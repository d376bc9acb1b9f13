"""The spokes: primary-care clinics, their patients and API clients."""
