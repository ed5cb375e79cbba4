"""Emotion over time in a long recording: per window or per ASR segment, with the words.

    python timeline.py talk.wav --window 4 --hop 2 --csv talk.csv --plot talk.png
    python timeline.py talk.wav --segments asr --json
"""
import argparse
from pathlib import Path

from emovc.core.cli import ArgumentParser, add_config_options


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = ArgumentParser(
        description="The emotion of a long recording over time (voice, words and both fused), with "
                    "statistics: share of time per emotion, longest stretch, changes per minute.")
    parser.add_argument("audio", metavar="AUDIO", help="a recording (any length; read block by block)")
    parser.add_argument("--window", type=float, help="window length in seconds (default: the config's ser.window_s, 4)")
    parser.add_argument("--hop", type=float, help="seconds between window starts (default: the config's ser.hop_s, 2)")
    parser.add_argument("--segments", choices=["windows", "asr"], default="windows",
                        help="'asr': one row per ASR segment instead of fixed windows")
    parser.add_argument("--csv", type=Path, help="write the rows as CSV")
    parser.add_argument("--parquet", type=Path, help="write the rows as Parquet")
    parser.add_argument("--json-out", type=Path, metavar="PATH", help="write rows and summary as JSON")
    parser.add_argument("--plot", type=Path, help="write a PNG: waveform, emotion over time, words")
    parser.add_argument("--no-text", action="store_true", help="skip ASR and text emotion (voice only; faster)")
    add_config_options(parser, "configs/detect.yaml", what="the models, as for detect.py", example="asr.model=tiny.en")
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument("--json", action="store_true", help="print rows and summary as JSON")
    shown.add_argument("--quiet", action="store_true", help="no progress, no table")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import json
    from emovc.analysis import Analyzer
    from emovc.analysis.plots import plot_timeline
    from emovc.analysis.timeline import analyse, check_new
    from emovc.core.config import load_config
    from emovc.convert.config import DetectConfig
    if args.no_text and args.segments == "asr":
        from emovc.core.errors import UserError
        raise UserError("--segments asr needs the transcript; leave out --no-text")
    outputs = [p for p in (args.csv, args.parquet, args.json_out, args.plot) if p]
    for path in outputs:
        check_new(path)
    analyzer = Analyzer(load_config(args.config, DetectConfig, args.set))
    timeline = analyse(args.audio, analyzer, window_s=args.window, hop_s=args.hop, segments=args.segments,
                       text=not args.no_text, progress=not args.quiet)
    for path, kind in ((args.csv, "csv"), (args.parquet, "parquet"), (args.json_out, "json")):
        if path:
            timeline.save(path, kind)
    if args.plot:
        plot_timeline(timeline, args.plot)
    if args.json:
        print(json.dumps(timeline.to_dict(), indent=1, ensure_ascii=False))
    elif not args.quiet:
        print(_table(timeline))
    return 0


def _table(timeline) -> str:
    lines = []
    for (_, start, end), row in timeline.frame.iterrows():
        extra = f"  text {row['text_label']}, fused {row['fused_label']}: {row['words']}" if row["words"] else ""
        lines.append(f"{start:8.2f} {end:8.2f}  {row['label']:<9}{extra}")
    s = timeline.summary
    share = ", ".join(f"{e} {p:.0%}" for e, p in sorted(s["share"].items(), key=lambda kv: -kv[1]) if p > 0)
    longest = s["longest"]
    lines += [f"share of time: {share}",
              f"longest stretch: {longest['label']} {longest['start']:.1f}-{longest['end']:.1f} s "
              f"({longest['duration_s']:.1f} s); {s['changes']} changes, {s['changes_per_minute']:.2f} per minute"]
    return "\n".join(lines)


def entry() -> None:
    """`emovc-timeline` and `python timeline.py`."""
    parse_args()    # --help and usage errors answer before numpy and the models are imported
    from emovc.core.cli import run
    run(main)
