"""`python -m caller_display`: the program at one window (settings from HALLQ_CALLER_*)."""

import os

# Kivy reads these when it is first imported, before main() can build any settings:
# no command-line parsing of its own, and its log goes through Python's logging.
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")

from caller_display.window import main  # noqa: E402  (after the environment above)

main()
