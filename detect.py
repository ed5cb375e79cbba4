#!/usr/bin/env python
"""Change the emotion of speech: recognise it, transcribe it, speak the words again.

    python detect.py samples/sample.wav HAPPY youngwoman
"""
import argparse
from pathlib import Path


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Recognise the emotion in a recording, transcribe it, and speak the words again "
                    "with another emotion and voice. Writes output/N.wav and output/N.json.")
    parser.add_argument("audio", metavar="AUDIO",
                        help="a recording, a folder of recordings, or a manifest CSV with a 'path' column")
    parser.add_argument("emotion", metavar="EMOTION",
                        help="target emotion: neutral calm happy sad angry fearful disgust surprised, "
                             "or 'same' (the detected one); any case")
    parser.add_argument("speaker", metavar="SPEAKER",
                        help="voice: youngwoman youngman smallgirl middlemale (any case)")
    parser.add_argument("--text", help="speak this text instead of the transcript (skips ASR)")
    parser.add_argument("--keep-voice", action="store_true",
                        help="change the emotion of the recording itself (same voice and words); "
                             "SPEAKER is then ignored")
    parser.add_argument("--intensity", help="normal, strong, or 0..1 (default from the config)")
    parser.add_argument("--output-dir", type=Path, default=Path("output"), help="where N.wav and N.json go (default: output)")
    parser.add_argument("--config", default="configs/detect.yaml",
                        help="which model each stage uses (default: configs/detect.yaml)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key, e.g. --set asr.model=tiny.en (repeatable)")
    parser.add_argument("--workers", type=int, metavar="N",
                        help="batch: conversions at once on this machine, each loading the models "
                             "(default: one per 4 cores; config key batch.workers)")
    parser.add_argument("--scheduler", metavar="tcp://HOST:8786",
                        help="batch: run on this existing Dask cluster (config key batch.scheduler; docs/scale.md)")
    parser.add_argument("--no-check", action="store_true",
                        help="skip the self-check (SER and ASR on the output)")
    parser.add_argument("--plots", action="store_true",
                        help="also write output/N.png: waveform, log-mel + F0, RMS and emotion "
                             "probabilities of the input and the output side by side")
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument("--json", action="store_true", help="print the report as JSON")
    shown.add_argument("--quiet", action="store_true", help="print only the output path")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from convert.runner import detect   # the stages load only once the arguments are valid
    return detect(args)


if __name__ == "__main__":
    parse_args()    # --help and usage errors answer before numpy and the stages are imported
    from core.cli import run
    run(main)
