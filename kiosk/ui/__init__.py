"""What the kiosk's screens share: colours and sizes, the words, the widgets."""
