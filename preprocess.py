#!/usr/bin/env python
"""Extract and cache the features an experiment config needs.

The command is emovc/commands/preprocess.py (installed: `emovc-preprocess`); `python preprocess.py --help` for its options.
"""
from emovc.commands.preprocess import entry

if __name__ == "__main__":
    entry()
