"""The callers' and main screen's hardware behind adapters: speaker, buttons."""
