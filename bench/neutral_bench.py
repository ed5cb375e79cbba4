#!/usr/bin/env python
"""Neutral read speech the recogniser never saw: how much of it is heard as neutral or calm,
and whether it is ever sure (> 90 %) of sad or angry.

Clips: the real recordings listed in samples/neutral/manifest.csv (9 speakers, none from
../shared/data; sources and licences in its README) and the project's voices (tts/voices.yaml)
reading emotionally neutral sentences with emotion 'neutral'. Each clip is classified alone;
each speaker's or voice's clips are also classified as a batch (per-speaker normalisation, as
detect.py does for a long recording) where it has several.

    python bench/neutral_bench.py [--config configs/multicorpus.yaml] [--voices youngwoman middlemale]
"""
import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from emovc.core.audio import load_audio  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "neutral"

SENTENCES = [
    "The library opens at nine and closes at five on weekdays.",
    "Please put the blue folder on the second shelf.",
    "The train to the city leaves from platform four.",
    "We will meet in the main room after lunch.",
    "The report has three parts and a short summary.",
    "Turn left at the corner and walk to the end of the street.",
]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="configs/detect.yaml",
                        help="a detect config (its ser.config) or an SER experiment config")
    parser.add_argument("--voices", nargs="*", help="voices to synthesise with (default: all)")
    args = parser.parse_args()
    from emovc.ser import load_recognizer
    from emovc.tts import synthesize, voice_names
    ser_config = args.config
    if "detect" in Path(args.config).name:
        from emovc.convert.config import DetectConfig
        from emovc.core.config import load_config
        ser_config = load_config(args.config, DetectConfig).ser.config
    rec = load_recognizer(ser_config)
    rows = []                                   # (kind, group, clip name, features)
    for row in read_manifest():
        wav, sr = load_audio(SAMPLES / row["path"])
        rows.append(("real", row["speaker"], row["path"], rec.features(wav, sr)))
    for voice in args.voices or voice_names():
        for i, text in enumerate(SENTENCES):
            wav, sr = synthesize(text, "neutral", voice)
            rows.append(("synthetic", voice, f"sentence {i + 1}", rec.features(wav, sr)))
    single = rec.classify([f for *_, f in rows])
    batched = [None] * len(rows)
    for group in sorted({g for _, g, _, _ in rows}):
        idx = [i for i, (_, g, _, _) in enumerate(rows) if g == group]
        if len(idx) > 1:
            for i, p in zip(idx, rec.classify([rows[i][3] for i in idx], normalise=True)):
                batched[i] = p
    print(f"recogniser: {ser_config}\n")
    print(f"{'speaker/voice':18s} {'clip':38s} {'single clip':28s} per-speaker batch")
    for (_, group, name, _), a, b in zip(rows, single, batched):
        second = "" if b is None else f"{b.label} {b.confidence:.0%}"
        print(f"{group:18s} {name[:38]:38s} {a.label + ' ' + format(a.confidence, '.0%') + ' (' + a.top + ')':28s} {second}")
    for kind in ("real", "synthetic", None):
        for title, preds in (("single clip", single), ("per-speaker batch", batched)):
            chosen = [(g, p) for (k, g, _, _), p in zip(rows, preds) if p is not None and kind in (None, k)]
            if chosen:
                print(summary(f"{kind or 'all'} clips, {title}", chosen))


def read_manifest() -> list[dict]:
    import csv
    with open(SAMPLES / "manifest.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    missing = [r["path"] for r in rows if not (SAMPLES / r["path"]).is_file()]
    if missing:
        raise SystemExit(f"samples/neutral/manifest.csv lists missing files: {', '.join(missing)}; restore them with git checkout")
    return rows


def summary(title: str, chosen: list) -> str:
    """Share heard as neutral or calm (over clips, and averaged over speakers), confident sad/angry, uncertain."""
    calm = [p.top in ("neutral", "calm") for _, p in chosen]
    groups = sorted({g for g, _ in chosen})
    per_group = [np.mean([c for (g, _), c in zip(chosen, calm) if g == group]) for group in groups]
    sure = sum(p.top in ("sad", "angry") and p.confidence > 0.9 for _, p in chosen)
    uncertain = sum(p.label == "uncertain" for _, p in chosen)
    heard = Counter(p.top for _, p in chosen)
    return (f"\n{title}: {len(chosen)} clips of {len(groups)} speakers; heard as neutral or calm {np.mean(calm):.0%} "
            f"({sum(calm)}), mean over speakers {np.mean(per_group):.0%}; sad/angry at > 90 %: {sure}; labelled "
            f"uncertain: {uncertain}\n  top labels: " + ", ".join(f"{k} {v}" for k, v in heard.most_common()))


if __name__ == "__main__":
    main()
