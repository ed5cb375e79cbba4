#!/usr/bin/env python
"""Recognise the emotion of audio files (or every audio file in folders).

Prints one line per file: path, label, confidence; or, with --json, a JSON list of
{path, label, probabilities}. A file that cannot be used is skipped with a warning.

    python predict.py clip.wav recordings/ [--config configs/example.yaml] [--json]
"""
import argparse
import json
import logging
import sys

from core.cli import ArgumentParser, add_config_options, path_arg, run


def main(argv=None):
    parser = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("audio", nargs="+", type=path_arg, help="audio files or folders")
    add_config_options(parser, "configs/example.yaml", what="experiment YAML or checkpoint folder")
    parser.add_argument("--json", action="store_true", help="print a JSON list with all probabilities")
    parser.add_argument("--normalise", choices=["none", "batch"], default="none",
                        help="'batch': standardise features over all given files first (use for one "
                             "speaker's or one recording setup's clips from another corpus)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    from core.audio import list_audio, load_audio
    from core.errors import UserError
    from ser.features import SR
    from ser.recognizer import load_recognizer
    rec = load_recognizer(args.config, args.set)
    files, skipped = [], []
    for arg in args.audio:
        try:
            files += list_audio([arg])
        except UserError as e:
            skipped.append(str(e))
    paths, features = [], []
    for path in files:
        try:
            wav, _ = load_audio(path, sr=SR)
            features.append(rec.features(wav, SR, str(path)))
            paths.append(path)
        except UserError as e:
            skipped.append(str(e))
    for reason in skipped[0 if paths else 1:]:
        print(f"warning: skipped: {reason}", file=sys.stderr)
    if not paths:       # the error line names the (first) reason
        raise UserError(skipped[0] if len(skipped) == 1 else
                        f"none of the {len(skipped)} inputs could be classified; the first: {skipped[0]}")
    predictions = rec.classify(features, normalise=args.normalise == "batch")
    if args.json:
        print(json.dumps([{"path": str(p), "label": q.label, "probabilities": q.probabilities}
                          for p, q in zip(paths, predictions)], indent=1))
    else:
        for p, q in zip(paths, predictions):
            print(f"{p}\t{q.label}\t{q.confidence:.3f}")


if __name__ == "__main__":
    run(main)
