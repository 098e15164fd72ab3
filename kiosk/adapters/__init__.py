"""The kiosk's hardware behind small adapters: the config picks the class, tests use fakes."""
