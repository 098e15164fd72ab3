"""The one definition of how HallQ programs talk: topics, messages, errors, settings.

`topics`, `messages`, `errors` and `settings` are pure (no I/O). `outbox` (a SQLite
file) and `link` (the MQTT connection every program uses) are the only modules
here that touch the outside world; they are kept apart so the pure part can be
imported anywhere, even by a documentation generator.
"""
