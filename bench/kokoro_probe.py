"""Probe Kokoro's editable graph on one sentence (bf_emma): how the energy contour offset moves
the output, and how blending half of the style vector towards other voices moves the measured
prosody (`tts.render.measure`). The figures behind docs/tts.md's notes on energy and style.

    nice python bench/kokoro_probe.py
"""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tts.engines import load_engine  # noqa: E402
from tts.render import Prosody, measure  # noqa: E402

TEXT = "Glue the sheet to the dark blue background."
KEYS = ("f0_median", "f0_range", "energy", "tilt", "hnr")


def main() -> None:
    engine = load_engine("kokoro")
    base = engine.voices["bf_emma"][0]
    neutral = measure(engine(TEXT, "bf_emma"), engine.sample_rate)
    print("change from bf_emma's neutral rendering (st, st, dB, dB, dB):", ", ".join(KEYS))
    for offset in (-4, -2, 2, 4):           # energy_offset = energy dB * ln 10 / 20
        m = measure(engine(TEXT, "bf_emma", prosody=Prosody(energy=offset * 20 / np.log(10))), engine.sample_rate)
        print(f"energy contour {offset:+d}: " + " ".join(f"{m[k] - neutral[k]:+6.2f}" for k in KEYS))
    for other in ("bf_alice", "am_liam", "bm_lewis", "jf_alpha", "if_sara"):
        for half, cols in (("acoustic", slice(0, 128)), ("prosodic", slice(128, 256))):
            style = base.copy()
            style[..., cols] += 0.5 * (engine.voices[other][0][..., cols] - base[..., cols])
            engine.voices["probe"] = (style, "en-gb")
            m = measure(engine(TEXT, "probe"), engine.sample_rate)
            print(f"{half} half halfway to {other:>9}: " + " ".join(f"{m[k] - neutral[k]:+6.2f}" for k in KEYS))


if __name__ == "__main__":
    main()
