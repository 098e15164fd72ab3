"""Hardware adapters of the kiosk: the real device, and a stand-in for demos and tests."""
