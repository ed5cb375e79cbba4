"""Recognise the emotion of audio files (or every audio file in folders), each read in windows of
4 s every 2 s as detect.py, timeline.py and the app read them (so all give one label).

Prints one line per file: path, label, confidence; or, with --json, a JSON list of
{path, label, probabilities}. A file that cannot be used is skipped with a warning.

    python predict.py clip.wav recordings/ [--config configs/multicorpus.yaml] [--json] [--plots [DIR]]
    python predict.py corpus/ --scheduler tcp://10.0.0.5:8786     # features on a Dask cluster
    python predict.py speaker7/ --normalise adapt      # one speaker's files in order, learning the voice
"""
import argparse
import json
import logging
import sys
from pathlib import Path

from emovc.core.cli import ArgumentParser, add_config_options, add_execution_options, path_arg, run


def main(argv=None):
    parser = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("audio", nargs="+", type=path_arg, help="audio files or folders")
    add_config_options(parser, "configs/multicorpus.yaml", what="experiment YAML or checkpoint folder")
    parser.add_argument("--json", action="store_true", help="print a JSON list with all probabilities")
    parser.add_argument("--normalise", choices=["none", "batch", "adapt"], default="none",
                        help="'batch': standardise features over all given files first (use for one "
                             "speaker's or one recording setup's clips from another corpus); 'adapt': "
                             "learn the speaker file by file, in the order given (ser/adapt.py)")
    parser.add_argument("--plots", metavar="DIR", nargs="?", type=path_arg, const="output", default=None,
                        help="also write DIR/<name>.png per file (default DIR: output): waveform, "
                             "log-mel + F0, RMS and the probabilities; existing files are kept")
    add_execution_options(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    from emovc.core.audio import list_audio
    from emovc.core.config import resolve_path
    from emovc.core.errors import UserError
    from emovc.core.execute import Executor
    from emovc.ser.recognizer import recognise_files
    source, overrides = str(resolve_path(args.config).resolve()), tuple(args.set)
    executor = Executor(args.scheduler, args.workers)      # checks --scheduler before any model loads
    files, skipped = [], []
    for arg in args.audio:
        try:
            files += list_audio([arg])
        except UserError as e:
            skipped.append(str(e))
    if args.plots:
        from emovc.convert.outputs import check_writable
        check_writable(Path(args.plots))
    with executor:
        found, failed = recognise_files(source, overrides, files, executor, normalise=args.normalise)
    skipped += failed
    for reason in skipped[0 if found else 1:]:
        print(f"warning: skipped: {reason}", file=sys.stderr)
    if not found:       # the error line names the (first) reason
        raise UserError(skipped[0] if len(skipped) == 1 else
                        f"none of the {len(skipped)} inputs could be classified; the first: {skipped[0]}")
    paths, predictions = [p for p, _ in found], [r.overall for _, r in found]
    if args.plots:
        from emovc.analysis.plots import Clip, render_clips, write_png
        from emovc.core.audio import SR, load_audio
        for p, q in zip(paths, predictions):
            wav, _ = load_audio(p, sr=SR)
            png = write_png(Path(args.plots) / f"{p.stem}.png", render_clips([Clip(p.name, wav, SR, q)]), numbered=True)
            print(f"pictures: {png}", file=sys.stderr)
    if args.json:
        print(json.dumps([{"path": str(p), **q.to_dict()} for p, q in zip(paths, predictions)], indent=1))
    else:
        for p, q in zip(paths, predictions):
            print(f"{p}\t{q.label}\t{q.confidence:.3f}" + (f"\t(most likely {q.top})" if q.label != q.top else ""))


def entry() -> None:
    """`emovc-predict` and `python predict.py`."""
    run(main)
