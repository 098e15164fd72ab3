"""`python -m kiosk`: the ticket machine's touch app (settings from HALLQ_KIOSK_*)."""

import os

# Kivy reads these when it is first imported, before main() can build any settings:
# no command-line parsing of its own, and its log goes through Python's logging.
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")

from kiosk.app import main  # noqa: E402  (after the environment above)

main()
