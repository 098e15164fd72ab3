"""What the kiosk and the window caller share for printing: ESC/POS slips and printers.

Imports `protocol` and python-escpos only, never a program; python-escpos is loaded when a
slip is first laid out, so a caller without a printer never needs it.
"""
