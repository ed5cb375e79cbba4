#!/usr/bin/env python
"""Recognise the emotion of audio files, or of every audio file in folders.

The command is emovc/commands/predict.py (installed: `emovc-predict`); `python predict.py --help` for its options.
"""
from emovc.commands.predict import entry

if __name__ == "__main__":
    entry()
