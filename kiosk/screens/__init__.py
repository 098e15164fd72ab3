"""The kiosk's pages, one module each, built on `KioskScreen` (base.py)."""
