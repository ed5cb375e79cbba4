#!/usr/bin/env python
"""Change the emotion of speech: recognise it, transcribe it, speak the words again.

The command is emovc/commands/detect.py (installed: `emovc-detect`); `python detect.py --help` for its options.
"""
from emovc.commands.detect import entry

if __name__ == "__main__":
    entry()
