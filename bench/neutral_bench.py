#!/usr/bin/env python
"""Neutral read speech the recogniser never saw: how much of it is heard as neutral or calm,
and whether it is ever sure (> 90 %) of sad or angry.

Clips: the real recordings in samples/neutral/ and the project's voices (tts/voices.yaml)
reading emotionally neutral sentences with emotion 'neutral'. None comes from ../shared/data.
Each clip is classified alone; the synthetic clips are also classified per voice as a batch
(per-speaker normalisation, as detect.py does for a long recording).

    python bench/neutral_bench.py [--config configs/multicorpus.yaml] [--voices youngwoman middlemale]
"""
import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.audio import list_audio, load_audio  # noqa: E402

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
    from ser import load_recognizer
    from tts import synthesize, voice_names
    ser_config = args.config
    if "detect" in Path(args.config).name:
        from convert.config import DetectConfig
        from core.config import load_config
        ser_config = load_config(args.config, DetectConfig).ser.config
    rec = load_recognizer(ser_config)
    rows = []
    for path in list_audio([Path(__file__).resolve().parents[1] / "samples" / "neutral"]):
        wav, sr = load_audio(path)
        rows.append(("real", path.name, rec.features(wav, sr)))
    for voice in args.voices or voice_names():
        for i, text in enumerate(SENTENCES):
            wav, sr = synthesize(text, "neutral", voice)
            rows.append((voice, f"sentence {i + 1}", rec.features(wav, sr)))
    single = rec.classify([f for _, _, f in rows])
    batched = list(single)
    for group in sorted({g for g, _, _ in rows} - {"real"}):
        idx = [i for i, (g, _, _) in enumerate(rows) if g == group]
        for i, p in zip(idx, rec.classify([rows[i][2] for i in idx], normalise=True)):
            batched[i] = p
    print(f"recogniser: {ser_config}\n")
    print(f"{'group':12s} {'clip':24s} {'single clip':28s} per-voice batch")
    for (group, name, _), a, b in zip(rows, single, batched):
        second = "" if group == "real" else f"{b.label} {b.confidence:.0%}"
        print(f"{group:12s} {name:24s} {a.label + ' ' + format(a.confidence, '.0%') + ' (' + a.top + ')':28s} {second}")
    for title, preds, keep in (("single clip", single, lambda g: True),
                               ("per-voice batch (synthetic only)", batched, lambda g: g != "real")):
        chosen = [p for (g, _, _), p in zip(rows, preds) if keep(g)]
        calm = np.mean([p.top in ("neutral", "calm") for p in chosen])
        sure = sum(p.top in ("sad", "angry") and p.confidence > 0.9 for p in chosen)
        uncertain = sum(p.label == "uncertain" for p in chosen)
        print(f"\n{title}: {len(chosen)} clips; heard as neutral or calm {calm:.0%}; "
              f"sad/angry at > 90 %: {sure}; labelled uncertain: {uncertain}")
    real = [p for (g, _, _), p in zip(rows, single) if g == "real"]
    print(f"real recordings only: {sum(p.top in ('neutral', 'calm') for p in real)} of {len(real)} neutral or calm")


if __name__ == "__main__":
    main()
