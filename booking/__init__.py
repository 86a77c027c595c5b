"""Offerings, units, availability, booking requests and their life cycle, ICS and the JSON API."""
