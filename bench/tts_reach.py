"""Does the synthesis reach the emotion profiles? Each emotion's rendering is measured with
`tts.render.measure` against the neutral rendering of the same voice and sentence, in the
profile's own terms (tts/build_profiles.change), and printed next to the profile's value.

    nice python bench/tts_reach.py [--sentences 3] [--voices ...] [--intensity normal]

No recogniser or judge is involved: this is what the renderer asked for against what the output
measures. Figures are medians over voices x sentences (per voice with --per-voice).
"""
import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from emovc.core.labels import EMOTIONS  # noqa: E402

KEYS = ("pitch", "range", "rate", "energy", "tilt", "hnr")


def achieved(clips) -> dict[tuple[str, str, str], dict[str, float]]:
    """(voice, emotion, text) -> the profile-style change of that rendering against the neutral
    rendering of the same voice and text. `clips`: dicts with voice, emotion, text, wav, sr."""
    from emovc.tts.build_profiles import change
    from emovc.tts.render import measure
    m = {(c["voice"], c["emotion"], c["text"]): measure(c["wav"], c["sr"]) for c in clips}
    return {(v, e, t): change(x, m[v, "neutral", t]) for (v, e, t), x in m.items()
            if e != "neutral" and (v, "neutral", t) in m}


def table(changes, intensity="normal", emotions=EMOTIONS, by_voice=False) -> str:
    """Profile value / achieved median per emotion (and per voice), one column per measure."""
    from emovc.tts.profiles import profile
    groups = defaultdict(list)
    for (v, e, _), c in changes.items():
        groups[(e, v if by_voice else "all")].append(c)
    rows = [f"{'emotion':>10} {'voice':>10} " + " ".join(f"{k:>13}" for k in KEYS)
            + "   (profile / achieved; pitch st, range x, rate x, energy dB, tilt dB, hnr dB)"]
    for e in emotions:
        target = profile(e, intensity)
        for (ge, v), cs in sorted(groups.items()):
            if ge != e:
                continue
            got = {k: float(np.nanmedian([c[k] for c in cs])) for k in KEYS}
            rows.append(f"{e:>10} {v:>10} " + " ".join(f"{getattr(target, k):+6.2f}/{got[k]:+6.2f}" for k in KEYS))
    return "\n".join(rows)


def main() -> None:
    from bench.tts_bench import SENTENCES
    from emovc.tts import synthesize, voice_names
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=3)
    parser.add_argument("--voices", nargs="+", default=None)
    parser.add_argument("--emotions", nargs="+", default=list(EMOTIONS))
    parser.add_argument("--intensity", default="normal")
    parser.add_argument("--per-voice", action="store_true")
    args = parser.parse_args()
    emotions = list(dict.fromkeys(["neutral", *args.emotions]))
    clips = []
    for v in args.voices or voice_names():
        for e in emotions:
            for s in SENTENCES[:args.sentences]:
                wav, sr = synthesize(s, emotion=e, voice=v, intensity=args.intensity)
                clips.append({"voice": v, "emotion": e, "text": s, "wav": wav, "sr": sr})
    print(table(achieved(clips), args.intensity, [e for e in emotions if e != "neutral"], args.per_voice))


if __name__ == "__main__":
    main()
