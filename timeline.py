#!/usr/bin/env python
"""Emotion over time in a long recording, with the words.

The command is emovc/commands/timeline.py (installed: `emovc-timeline`); `python timeline.py --help` for its options.
"""
from emovc.commands.timeline import entry

if __name__ == "__main__":
    entry()
