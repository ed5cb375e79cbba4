"""Peak memory of detect.py against input length: varied real speech of 1, 10, 30, 120 minutes.

    nice python bench/memory_bench.py [--minutes 1 10 30 120] [--speaker middlemale] [--set KEY=VALUE]
                                      [--no-check] [--text WORDS] [--detect OTHER_CHECKOUT/detect.py]

The input is made at run time (never committed) from RAVDESS clips in ../shared/data: a
seeded shuffle over all actors, emotions and both sentences, 0.5 s apart, written to a
temporary 16 kHz WAV. Each length is one cold `detect.py` process (ASR, synthesis of the
whole transcript, self-check), measured with os.wait4 (the child's own peak RSS).
Target (issue 13): peak <= 1.5 GB for a 2-hour input. `--text` (with `--no-check`) measures the
input side alone (reading and SER over the whole input; no ASR, a short synthesis), which is
what still grows with the input's length. `--detect` measures another checkout (e.g. an export
of an older commit) for a before/after table.
"""
import argparse
import csv
import json
import os
import random
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from detect_bench import timed_process  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "ravdess"


def long_speech(path: Path, minutes: float, seed: int = 0) -> int:
    """Write `minutes` of shuffled RAVDESS sentences to `path`; returns the number of sentences."""
    import soundfile as sf
    from emovc.core.audio import load_audio
    with open(DATA / "manifest.csv", newline="", encoding="utf-8") as f:
        clips = [DATA / row["path"] for row in csv.DictReader(f)]
    rng, gap = random.Random(seed), np.zeros(8000, np.float32)
    total, count = int(minutes * 60 * 16000), 0
    with sf.SoundFile(path, "w", 16000, 1, "PCM_16") as out:
        while out.frames < total:
            wav, _ = load_audio(rng.choice(clips), sr=16000)
            out.write(wav[: total - out.frames])
            out.write(gap[: max(0, total - out.frames)])
            count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[1, 10, 30, 120])
    parser.add_argument("--emotion", default="sad")
    parser.add_argument("--speaker", default="middlemale")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--no-check", action="store_true", help="skip the self-check (SER + ASR on the output)")
    parser.add_argument("--text", help="speak this instead of the transcript (skips the input's ASR)")
    parser.add_argument("--detect", type=Path, default=ROOT / "detect.py", help="the detect.py to measure")
    args = parser.parse_args()
    if not (DATA / "manifest.csv").is_file():
        sys.exit(f"RAVDESS not found at {DATA}; clone the project beside shared/")
    print(f"detect.py: {args.detect}; {args.emotion} {args.speaker}; self-check {'off' if args.no_check else 'on'}; "
          f"{f'--text {args.text!r}; ' if args.text else ''}{' '.join(args.set) or 'configs/detect.yaml'}; "
          f"cores: {os.cpu_count()}")
    print("| input (min) | sentences | output (min) | transcript words | wall (s) | peak RSS (MB) | stages (s) |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for minutes in args.minutes:
            clip = Path(tmp) / f"speech_{minutes:g}min.wav"
            sentences = long_speech(clip, minutes)
            wall, peak, stdout = timed_process(
                [str(clip), args.emotion, args.speaker, "--output-dir", str(Path(tmp) / "out"), "--json",
                 *(["--no-check"] if args.no_check else []), *(["--text", args.text] if args.text else []),
                 *(f"--set={item}" for item in args.set)],
                detect=args.detect)
            report = json.loads(stdout)
            import soundfile as sf
            out_min = sf.info(report["output"]).duration / 60
            stages = ", ".join(f"{k} {v:.0f}" for k, v in report["timings_s"].items() if k != "total")
            print(f"| {minutes:g} | {sentences} | {out_min:.1f} | {len(report['spoken_text'].split())} | "
                  f"{wall:.0f} | {peak:.0f} | {stages} |", flush=True)
            clip.unlink()


if __name__ == "__main__":
    main()
