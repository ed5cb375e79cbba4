"""Benchmark the synthesis stage: real-time factor and median F0 per voice, round-trip WER
through the project's ASR, and whether the project's SER hears the requested emotion.

    nice python bench/tts_bench.py                   # 2 sentences x 4 voices x 8 emotions (minutes)
    nice python bench/tts_bench.py --sentences 12    # the full run the targets are stated on
    nice python bench/tts_bench.py --candidates --emotions neutral --sentences 12 --ser off
                                                     # the raw engine voices the table was chosen from

SER is scored two ways: per file with the shipped model (what detect.py's self-check meets), and
per voice with the per-speaker model (configs/speaker_norm.yaml: trained on features standardised
per speaker, applied to each voice's renderings standardised together); `--ser off` skips it,
and it is skipped with a note when no trained SER checkpoint is present.
Set OMP/ORT threads to 2 at most; each engine runs one onnxruntime thread per synthesis.
"""
import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.audio import resample  # noqa: E402
from core.errors import UserError  # noqa: E402
from core.labels import EMOTIONS  # noqa: E402

# Harvard sentences (IEEE 1969, public domain), list 1, plus two for the text front end.
SENTENCES = [
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet to the dark blue background.",
    "It's easy to tell the depth of a well.",
    "These days a chicken leg is a rare dish.",
    "Rice is often served in round bowls.",
    "The juice of lemons makes fine punch.",
    "The box was thrown beside the parked truck.",
    "The hogs were fed chopped corn and garbage.",
    "Four hours of steady work faced us.",
    "A large size in stockings is hard to sell.",
    "The train leaves at 7:45 from platform 3.",
    "Dr. Jones paid $12 for 2 tickets.",
]


def candidates() -> dict:
    """The untransformed engine voices considered for the four persons."""
    from tts.voices import Voice
    kokoro = ("jf_alpha", "jf_tebukuro", "jf_nezumi", "jf_gongitsune", "jm_kumo")
    return {"piper_joe": Voice(engine="piper"), **{f"kokoro_{k}": Voice(engine="kokoro", speaker=k) for k in kokoro}}


def synthesise_all(voices, emotions, sentences, intensity):
    from tts import synthesize
    from tts.engines import load_engine
    from tts.voices import get_voice
    for v in voices:                                  # load outside the timings
        spec = get_voice(v)
        load_engine(spec.engine, spec.model)(sentences[0], spec.speaker)
    clips = []
    for v in voices:
        for e in emotions:
            for s in sentences:
                start = time.perf_counter()
                wav, sr = synthesize(s, emotion=e, voice=v, intensity=intensity)
                clips.append({"voice": v, "emotion": e, "text": s, "wav": wav, "sr": sr,
                              "seconds": time.perf_counter() - start})
        print(f"synthesised {v}", flush=True)
    return clips


def f0_median(wav, sr) -> float:
    import parselmouth
    f0 = parselmouth.Sound(wav.astype(np.float64), sr).to_pitch(pitch_floor=60, pitch_ceiling=600).selected_array["frequency"]
    return float(np.median(f0[f0 > 0]))


def score_asr(clips, model: str) -> None:
    from asr import load_asr
    from asr.evaluate import edit_distance, normalise_text
    asr = load_asr("whisper", model=model, language="en")
    for c in clips:
        heard = asr.transcribe(resample(c["wav"], c["sr"], 16000)).text
        ref, hyp = normalise_text(c["text"]).split(), normalise_text(heard).split()
        c["heard"], c["errors"], c["words"] = heard, edit_distance(ref, hyp), len(ref)


def score_ser(clips, per_file: str, per_voice: str) -> str | None:
    """Adds 'per_file' predictions (the `per_file` model, each file alone) and 'per_voice' ones (the
    `per_voice` model, each voice's renderings standardised together); returns why SER was skipped."""
    try:
        from ser import load_recognizer
        single, grouped = load_recognizer(per_file), load_recognizer(per_voice)
    except (ImportError, UserError) as e:
        return str(e)
    feats = [single.features(c["wav"], c["sr"]) for c in clips]
    for c, p in zip(clips, single.classify(feats)):
        c["per_file"] = p.label
    if grouped.meta["features"] != single.meta["features"]:
        feats = [grouped.features(c["wav"], c["sr"]) for c in clips]
    by_voice = defaultdict(list)
    for i, c in enumerate(clips):
        by_voice[c["voice"]].append(i)
    for idx in by_voice.values():
        for i, p in zip(idx, grouped.classify([feats[i] for i in idx], normalise=True)):
            clips[i]["per_voice"] = p.label
    return None


def wer_by_sentence(clips) -> str:
    """WER % per sentence over all voices and emotions, and one line with an example mishearing."""
    rows = ["WER % by sentence (all voices and emotions), with the most common mishearing"]
    for text in dict.fromkeys(c["text"] for c in clips):
        mine = [c for c in clips if c["text"] == text]
        wrong = [c["heard"] for c in mine if c["errors"]]
        common = max(set(wrong), key=wrong.count) if wrong else ""
        rows.append(f"{100 * sum(c['errors'] for c in mine) / sum(c['words'] for c in mine):6.1f}  {text}"
                    + (f"  <- {common!r}" if common else ""))
    return "\n".join(rows)


def confusion(clips, key, emotions) -> str:
    labels = sorted({c[key] for c in clips} | set(emotions), key=lambda l: (l not in EMOTIONS, EMOTIONS.index(l) if l in EMOTIONS else 0))
    rows = ["requested \\ heard " + " ".join(f"{l[:5]:>5}" for l in labels)]
    for e in emotions:
        got = [c[key] for c in clips if c["emotion"] == e]
        rows.append(f"{e:>17} " + " ".join(f"{got.count(l):5d}" for l in labels))
    return "\n".join(rows)


def recall(clips, key, emotions) -> float:
    """Share recognised, averaged over the requested emotions (chance 1/8)."""
    return float(np.mean([np.mean([c[key] == e for c in clips if c["emotion"] == e]) for e in emotions]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=2, help=f"how many of the {len(SENTENCES)} sentences")
    parser.add_argument("--voices", nargs="+", default=None, help="default: all")
    parser.add_argument("--candidates", action="store_true", help="score the raw engine voices instead")
    parser.add_argument("--voice-table", type=Path, help="add the voices of this YAML (tts/voices.yaml layout)")
    parser.add_argument("--emotions", nargs="+", default=list(EMOTIONS))
    parser.add_argument("--intensity", default="normal")
    parser.add_argument("--asr-model", default="base", help="Whisper model for the round-trip WER")
    parser.add_argument("--ser", default="configs/example.yaml",
                        help="SER config or checkpoint for the per-file score; 'off' skips SER")
    parser.add_argument("--ser-per-voice", default="configs/speaker_norm.yaml",
                        help="SER for the per-voice score (trained per speaker, as the issue's protocol asks)")
    parser.add_argument("--json", type=Path, help="write per-file results here")
    args = parser.parse_args()
    from tts import VOICES, add_voices, voice_names
    if args.voice_table:
        add_voices(args.voice_table)
    if args.candidates:
        VOICES.update(candidates())
    voices = args.voices or (list(candidates()) if args.candidates else voice_names())
    sentences = SENTENCES[:args.sentences]
    clips = synthesise_all(voices, args.emotions, sentences, args.intensity)
    score_asr(clips, args.asr_model)
    skipped = "--ser off" if args.ser == "off" else score_ser(clips, args.ser, args.ser_per_voice)

    print(f"\n{len(sentences)} sentences x {len(voices)} voices x {len(args.emotions)} emotions, "
          f"intensity {args.intensity}")
    print(f"{'voice':>11} {'RTF':>6} {'F0 Hz':>6} {'WER %':>6}")
    for v in voices:
        mine = [c for c in clips if c["voice"] == v]
        rtf = sum(c["seconds"] for c in mine) / sum(len(c["wav"]) / c["sr"] for c in mine)
        f0 = np.median([f0_median(c["wav"], c["sr"]) for c in mine if c["emotion"] == "neutral"] or [np.nan])
        wer = 100 * sum(c["errors"] for c in mine) / sum(c["words"] for c in mine)
        print(f"{v:>11} {rtf:6.3f} {f0:6.0f} {wer:6.2f}")
    print(f"{'all':>11} {'':>6} {'':>6} {100 * sum(c['errors'] for c in clips) / sum(c['words'] for c in clips):6.2f}")
    print("\n" + wer_by_sentence(clips))
    if skipped:
        print(f"\nSER not scored: {skipped}")
    else:
        for key, name in (("per_file", "per file"), ("per_voice", "per-voice normalised")):
            print(f"\nSER recognises the requested emotion ({name}): {100 * recall(clips, key, args.emotions):.1f} % "
                  f"(mean over emotions; chance {100 / len(args.emotions):.1f} %)")
            print(confusion(clips, key, args.emotions))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps([{k: v for k, v in c.items() if k != "wav"} for c in clips], indent=1))


if __name__ == "__main__":
    main()
