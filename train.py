#!/usr/bin/env python
"""Train and evaluate a speech-emotion model from an experiment config.

The command is emovc/commands/train.py (installed: `emovc-train`); `python train.py --help` for its options.
"""
from emovc.commands.train import entry

if __name__ == "__main__":
    entry()
