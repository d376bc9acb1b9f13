"""E-consults, consult notes and their delivery back to the clinics."""
