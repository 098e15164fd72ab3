"""The hub's database: schema, engine set-up and migrations."""
