"""Build tts/profiles.yaml from RAVDESS: each emotion's prosody relative to the same actor's neutral.

    python -m emovc.tts.build_profiles [--data ../shared/data/ravdess] [-o tts/profiles.yaml]

Per actor, the median of each measure over that actor's clips of one emotion and intensity is
compared with the median over the actor's neutral clips (same two sentences); the table holds
the median of these per-actor changes over all actors, so speaker differences cancel.
"""
import argparse
import csv
from collections import defaultdict
from dataclasses import asdict
from pathlib import Path

import numpy as np
import yaml

from emovc.core.audio import atomic_path, load_audio
from emovc.core.cli import run
from emovc.core.paths import ROOT
from emovc.core.errors import UserError
from emovc.tts.profiles import PROFILES, Prosody, load_profiles
from emovc.tts.render import measure

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "ravdess"


def change(emotion: dict[str, float], neutral: dict[str, float]) -> dict[str, float]:
    """One actor's emotion medians relative to that actor's neutral medians."""
    return {"pitch": emotion["f0_median"] - neutral["f0_median"],
            "range": emotion["f0_range"] / neutral["f0_range"],
            "rate": neutral["duration"] / emotion["duration"],
            "energy": emotion["energy"] - neutral["energy"],
            "tilt": emotion["tilt"] - neutral["tilt"],
            "hnr": emotion["hnr"] - neutral["hnr"]}


def build(data: Path) -> dict:
    manifest = data / "manifest.csv"
    if not manifest.is_file():
        raise UserError(f"{manifest} not found; point --data at the RAVDESS folder holding manifest.csv")
    clips: dict[tuple[str, str, str], list[dict]] = defaultdict(list)
    with manifest.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for i, row in enumerate(rows, 1):
        wav, sr = load_audio(data / row["path"])
        clips[row["speaker"], row["emotion"], row["intensity"]].append(measure(wav, sr))
        if i % 100 == 0:
            print(f"measured {i}/{len(rows)} clips", flush=True)
    median = lambda ms: {k: float(np.nanmedian([m[k] for m in ms])) for k in ms[0]}
    per_actor: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for (speaker, emotion, intensity), ms in clips.items():
        if emotion != "neutral":
            per_actor[emotion, intensity].append(change(median(ms), median(clips[speaker, "neutral", "normal"])))
    table = {"neutral": {"normal": asdict(Prosody())}}   # the reference itself: no change
    for (emotion, intensity), changes in sorted(per_actor.items()):
        table.setdefault(emotion, {})[intensity] = {k: round(float(np.median([c[k] for c in changes])), 3)
                                                    for k in changes[0]}
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emovc.tts.build_profiles", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="RAVDESS folder with manifest.csv")
    parser.add_argument("-o", "--output", type=Path, default=PROFILES, help="profile table to (re)write")
    args = parser.parse_args(argv)
    table = build(args.data)
    header = ("# Emotion prosody profiles relative to each RAVDESS actor's neutral speech (median over 24 actors).\n"
              "# Built by `python -m emovc.tts.build_profiles`; fields are explained in tts/render.py.\n")
    with atomic_path(args.output, overwrite=True) as tmp:
        tmp.write_text(header + yaml.safe_dump({"source": "RAVDESS speech, 24 actors, 1440 clips",
                                                "emotions": table}, sort_keys=False), encoding="utf-8")
    load_profiles.cache_clear()
    load_profiles(args.output)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    run(main)
