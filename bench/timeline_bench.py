#!/usr/bin/env python
"""timeline speed, memory and change finding on a long recording made of labelled RAVDESS clips.

    python bench/timeline_bench.py --minutes 5 [--text] [--window 4 --hop 2]

The recording: runs of three clips of one emotion (random emotion, actor and sentence per run;
seed 0), written to a temporary WAV. Prints the wall time, real-time factor and peak memory of
`analysis.timeline.analyse`, the share of true emotion changes with a label change within one
window, and the share of rows wholly inside a run that carry its label. The shipped SER model
was trained on all of RAVDESS, so the last two figures are in-sample: they check the timeline,
not how the recogniser does on unseen voices.
"""
import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from emovc.core.audio import load_audio  # noqa: E402
from emovc.core.config import load_config  # noqa: E402
from emovc.convert import Converter, DetectConfig  # noqa: E402
from emovc.analysis.timeline import analyse  # noqa: E402

CODES = {"neutral": 1, "calm": 2, "happy": 3, "sad": 4, "angry": 5, "fearful": 6, "disgust": 7, "surprised": 8}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--window", type=float, default=4.0)
    parser.add_argument("--hop", type=float, default=2.0)
    parser.add_argument("--text", action="store_true", help="with ASR, text emotion and fusion")
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "ravdess"))
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="detect config override, e.g. --set ser.config=configs/example.yaml")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path, runs = _recording(Path(args.data), args.minutes * 60, Path(tmp) / "long.wav")
        converter = Converter(load_config("configs/detect.yaml", DetectConfig, args.set))
        converter.load(asr=args.text)
        t0 = time.perf_counter()
        timeline = analyse(path, converter.analyzer, window_s=args.window, hop_s=args.hop, text=args.text,
                           progress=False)
        seconds = time.perf_counter() - t0
    frame = timeline.frame
    starts = frame.index.get_level_values("start").to_numpy()
    ends = frame.index.get_level_values("end").to_numpy()
    labels = frame["label"].to_numpy()
    changes = [(starts[i] + ends[i - 1]) / 2 for i in range(1, len(labels)) if labels[i] != labels[i - 1]]
    true_changes = [t1 for (e, _, t1), (f, _, _) in zip(runs, runs[1:]) if e != f]
    found = np.mean([any(abs(c - t) <= args.window for c in changes) for t in true_changes])
    inside = [labels[(starts >= t0) & (ends <= t1)] == e for e, t0, t1 in runs]
    inside = np.concatenate(inside) if inside else np.zeros(0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2
    print(f"{timeline.duration / 60:.1f} min, {len(frame)} rows ({args.window:g} s windows every {args.hop:g} s, "
          f"text {'on' if args.text else 'off'}): {seconds:.1f} s, real-time factor "
          f"{seconds / timeline.duration:.3f}, peak memory {peak:.2f} GB")
    print(f"true changes found within one window: {found:.0%} of {len(true_changes)}; "
          f"label changes {len(changes)}; rows inside a run with its label: {inside.mean():.0%} (in-sample)")


def _recording(data: Path, seconds: float, out: Path):
    """Write the recording clip by clip (so this process never holds it whole); the runs' labels and times."""
    rng = np.random.default_rng(0)
    runs, t = [], 0.0
    with sf.SoundFile(out, "w", samplerate=16000, channels=1, subtype="PCM_16") as f:
        while t < seconds:
            emotion = str(rng.choice(list(CODES)))
            actor, start = int(rng.integers(1, 25)), t
            for statement, repetition in ((1, 1), (1, 2), (2, 1)):
                intensity = 1 if emotion == "neutral" else 2
                wav, _ = load_audio(data / f"Actor_{actor:02d}" / f"03-01-{CODES[emotion]:02d}-{intensity:02d}-"
                                    f"{statement:02d}-{repetition:02d}-{actor:02d}.flac", sr=16000)
                f.write(wav)
                t += len(wav) / 16000
            runs.append((emotion, start, t))
    return out, runs


if __name__ == "__main__":
    main()
