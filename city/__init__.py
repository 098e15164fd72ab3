"""The city service (city mode, docs/scaling.md): every hall's appointments, no-shows and
reviews in one PostgreSQL database, the city-wide blacklist computed from them with the
hall's own rules (hub/blacklist_rules.py), and its changes served back to the halls."""
