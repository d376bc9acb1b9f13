"""Telehub: scheduling and closed-loop consults for telehealth hub-and-spoke care."""
