#!/usr/bin/env python
"""The web app: upload or record speech, see its emotion and transcript, convert it, or watch it live.

The command is emovc/commands/app.py (installed: `emovc-app`); `python app.py --help` for its options.
"""
from emovc.commands.app import entry

if __name__ == "__main__":
    entry()
