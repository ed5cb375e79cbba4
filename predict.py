#!/usr/bin/env python
"""Recognise the emotion of audio files (or every audio file in folders).

Prints one line per file: path, label, confidence; or, with --json, a JSON list of
{path, label, probabilities}. A file that cannot be used is skipped with a warning.

    python predict.py clip.wav recordings/ [--config configs/example.yaml] [--json] [--plots [DIR]]
"""
import argparse
import json
import logging
import sys
from pathlib import Path

from core.cli import add_config_options, run


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("audio", nargs="+", help="audio files or folders")
    add_config_options(parser, "configs/example.yaml", what="experiment YAML or checkpoint folder")
    parser.add_argument("--json", action="store_true", help="print a JSON list with all probabilities")
    parser.add_argument("--normalise", choices=["none", "batch"], default="none",
                        help="'batch': standardise features over all given files first (use for one "
                             "speaker's or one recording setup's clips from another corpus)")
    parser.add_argument("--plots", metavar="DIR", nargs="?", const="output", default=None,
                        help="also write DIR/<name>.png per file (default DIR: output): waveform, "
                             "log-mel + F0, RMS and the probabilities; existing files are kept")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    from core.audio import list_audio, load_audio
    from core.errors import UserError
    from ser.features import SR
    from ser.recognizer import load_recognizer
    rec = load_recognizer(args.config, args.set)
    files = []
    for arg in args.audio:
        try:
            files += list_audio([arg])
        except UserError as e:
            print(f"warning: skipped: {e}", file=sys.stderr)
    if args.plots:
        from convert.outputs import check_writable
        check_writable(Path(args.plots))
    paths, features, waves = [], [], []
    for path in files:
        try:
            wav, _ = load_audio(path, sr=SR)
            features.append(rec.features(wav, SR, str(path)))
            paths.append(path)
            waves.append(wav if args.plots else None)
        except UserError as e:
            print(f"warning: skipped: {e}", file=sys.stderr)
    if not paths:
        raise UserError("none of the given files could be classified")
    predictions = rec.classify(features, normalise=args.normalise == "batch")
    if args.plots:
        from convert.plots import Clip, render_clips, write_png
        for p, q, wav in zip(paths, predictions, waves):
            png = write_png(Path(args.plots) / f"{p.stem}.png", render_clips([Clip(p.name, wav, SR, q)]), numbered=True)
            print(f"pictures: {png}", file=sys.stderr)
    if args.json:
        print(json.dumps([{"path": str(p), "label": q.label, "probabilities": q.probabilities}
                          for p, q in zip(paths, predictions)], indent=1))
    else:
        for p, q in zip(paths, predictions):
            print(f"{p}\t{q.label}\t{q.confidence:.3f}")


if __name__ == "__main__":
    run(main)
