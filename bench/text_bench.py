#!/usr/bin/env python
"""Text emotion on a held-out labelled text set: macro-F1, UAR, per-class F1, confusion.

    python bench/text_bench.py [--set bench/text_emotion_set.csv] [--model nrc]

The default set (80 sentences, 10 per emotion) was written for this project by hand before the
lexicon's output was looked at; nothing was tuned on it. Labels are the writer's, so the set
says how the lexicon reads plainly emotional everyday sentences, not how it does on real speech.
"""
import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from emovc.core.labels import EMOTIONS, normalise_emotion  # noqa: E402
from emovc.ser.evaluate import metrics  # noqa: E402
from emovc.ser.text import load_text_model, text_emotion  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default=str(Path(__file__).with_name("text_emotion_set.csv")))
    parser.add_argument("--model", default="nrc")
    args = parser.parse_args()
    with open(args.set, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    t0 = time.perf_counter()
    load_text_model(args.model)
    load_s = time.perf_counter() - t0
    labels = list(EMOTIONS)
    y = np.array([labels.index(normalise_emotion(r["emotion"])) for r in rows])
    t0 = time.perf_counter()
    pred = np.array([labels.index(text_emotion(r["text"], args.model).label) for r in rows])
    per_text = (time.perf_counter() - t0) / len(rows)
    m = metrics(y, pred, labels)
    print(f"text emotion '{args.model}' on {args.set} ({len(rows)} texts): macro-F1 {m['macro_f1']:.3f}, "
          f"UAR {m['uar']:.3f}, accuracy {m['accuracy']:.3f}; load {load_s * 1000:.0f} ms, "
          f"{per_text * 1000:.2f} ms per text")
    print("per class F1: " + ", ".join(f"{l} {m['per_class'][l]['f1']:.2f}" for l in labels))
    print("confusion (rows true, columns predicted, order " + " ".join(labels) + "):")
    for label, row in zip(labels, m["confusion"]):
        print(f"  {label:>9} " + " ".join(f"{v:2d}" for v in row))


if __name__ == "__main__":
    main()
