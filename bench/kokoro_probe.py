"""Probe Kokoro's editable graph on one sentence (bf_emma): how the energy contour offset moves
the output, and how blending half of the style vector towards other voices moves the measured
prosody (`tts.render.measure`). The figures behind docs/tts.md's notes on energy and style.
First, how the predicted energy contour relates to the output's frame level (dB per unit, the
`Kokoro.DB_PER_ENERGY` the emotion model's input is read with) over three voices and sentences.

    nice python bench/kokoro_probe.py
"""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from emovc.tts.engines import load_engine  # noqa: E402
from emovc.tts.profiles import Prosody  # noqa: E402
from emovc.tts.render import measure  # noqa: E402

TEXT = "Glue the sheet to the dark blue background."
KEYS = ("f0_median", "f0_range", "energy", "tilt", "hnr")


SENTENCES = ("The birch canoe slid on the smooth planks.", "Four hours of steady work faced us, and then we rested.", TEXT)


def energy_scale(engine) -> tuple[float, float]:
    """Least-squares dB of output level per unit of the energy contour (speech frames, each
    utterance's means removed) and the correlation."""
    from emovc.tts.kokoro_graph import prosody_inputs
    xs, ys = [], []
    for voice in ("bf_emma", "am_liam", "bm_lewis"):
        for text in SENTENCES:
            phonemes = " ".join(engine.tokenizer.phonemize(text, engine.voices[voice][1]).split())
            tokens = engine.tokenizer.tokenize(phonemes)
            audio, _, _, _, energy = engine.session.run(None, {
                "tokens": np.array([[0, *tokens, 0]]), "style": engine.voices[voice][0][len(tokens) - 1].reshape(1, -1),
                "speed": np.array([1.0], np.float32), **prosody_inputs(phonemes)})
            energy, hop = energy[0], int(engine.FRAME * engine.sample_rate)
            frames = audio.ravel()[:len(energy) * hop].reshape(len(energy), hop)
            db = 10 * np.log10((frames.astype(np.float64) ** 2).mean(axis=1) + 1e-10)
            speech = db > db.max() - 35
            xs.append(energy[speech] - energy[speech].mean())
            ys.append(db[speech] - db[speech].mean())
    x, y = np.concatenate(xs), np.concatenate(ys)
    return float((x * y).sum() / (x * x).sum()), float(np.corrcoef(x, y)[0, 1])


def main() -> None:
    engine = load_engine("kokoro")
    slope, r = energy_scale(engine)
    print(f"output level per unit of the energy contour: {slope:.2f} dB (r = {r:.2f}; Kokoro.DB_PER_ENERGY = {engine.DB_PER_ENERGY})")
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
