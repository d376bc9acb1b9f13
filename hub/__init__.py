"""The hub: consultants and counselors, their pages and calendar feeds."""
