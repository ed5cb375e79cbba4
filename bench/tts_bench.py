"""Benchmark the synthesis stage: real-time factor and median F0 per voice, round-trip WER
through the project's ASR, and whether the requested emotion is heard, by an independent judge
(bench/emotion_judge.py: ComParE + SVM trained on RAVDESS) and by the project's recogniser.

    nice python bench/tts_bench.py                   # 2 sentences x 4 voices x 8 emotions (minutes)
    nice python bench/tts_bench.py --sentences 12    # the full run the targets are stated on
    nice python bench/tts_bench.py --keep-voice 12 --sentences 0   # keep-voice on 12 RAVDESS neutral clips
    nice python bench/tts_bench.py --candidates [--candidates-dir kokoro-js/voices] --emotions neutral \
        --sentences 12 --ser off --judge off         # the raw engine voices the table was chosen from

Judge (the targets): per voice, each voice's renderings standardised together and classified by
the per-speaker judge; per file, each file alone by the corpus-standardised judge; pairwise, for
each voice and sentence, whether the requested high-arousal emotion scores higher on its rendering
than on the neutral rendering of the same sentence. `--keep-voice N` renders N RAVDESS neutral
clips of actors 21-24 with `tts.render_emotion` and scores them the same way with judges trained
on actors 1-20 (the speaker is the group).
The project's SER is scored per file with the shipped model and per voice with the per-speaker
model (configs/speaker_norm.yaml); `--ser off` skips it. Set OMP/ORT threads to 2 at most.
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


HIGH_AROUSAL = ("angry", "happy", "fearful", "surprised")


def candidates(folder: Path | None = None) -> dict:
    """The untransformed engine voices considered for the four persons: Piper joe, the shipped
    English Kokoro voices, and every English voice of a kokoro-js `voices/` folder when given."""
    from tts.engines import shipped_kokoro_voices
    from tts.voices import Voice
    found = {f"kokoro_{k}": Voice(engine="kokoro", speaker=k)
             for k, (_, lang) in shipped_kokoro_voices().items() if lang.startswith("en")}
    if folder:
        found.update({f"kokoro_{f.stem}": Voice(engine="kokoro", speaker=f.stem, model=str(folder))
                      for f in sorted(Path(folder).glob("[ab][fm]_*.bin"))})
    return {"piper_joe": Voice(engine="piper"), **found}


def keep_voice_all(n: int, emotions, intensity):
    """`tts.render_emotion` on `n` RAVDESS neutral clips of actors 21-24 (the 'voice' is the actor)."""
    import csv
    from bench.emotion_judge import RAVDESS
    from core.audio import load_audio
    from tts import render_emotion
    with (RAVDESS / "manifest.csv").open(newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["emotion"] == "neutral" and int(r["speaker"][-2:]) > 20]
    rows = sorted(rows, key=lambda r: (r["path"][-9:], r["speaker"]))[:n]   # spread over the actors
    clips = []
    for r in rows:
        wav, sr = load_audio(RAVDESS / r["path"])
        for e in emotions:
            start, cpu = time.perf_counter(), time.process_time()
            out = render_emotion(wav, sr, e, intensity)
            clips.append({"voice": r["speaker"], "emotion": e, "text": r["text"], "wav": out, "sr": sr,
                          "seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu,
                          "source": r["path"]})
    return clips


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
                start, cpu = time.perf_counter(), time.process_time()
                wav, sr = synthesize(s, emotion=e, voice=v, intensity=intensity)
                clips.append({"voice": v, "emotion": e, "text": s, "wav": wav, "sr": sr,
                              "seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu})
        print(f"synthesised {v}", flush=True)
    return clips


def f0_median(wav, sr) -> float:
    import parselmouth
    f0 = parselmouth.Sound(wav.astype(np.float64), sr).to_pitch(pitch_floor=60, pitch_ceiling=600).selected_array["frequency"]
    return float(np.median(f0[f0 > 0]))


def score_asr(clips, model: str) -> None:
    from asr import load_asr
    from asr.evaluate import errors
    asr = load_asr("whisper", model=model, language="en")
    for c in clips:
        heard = asr.transcribe(resample(c["wav"], c["sr"], 16000)).text
        c["heard"] = heard
        c["errors"], c["words"] = errors(c["text"], heard)


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
        c["per_file"] = max(p.probabilities, key=p.probabilities.get)   # the top emotion, never "uncertain"
    if grouped.meta["features"] != single.meta["features"]:
        feats = [grouped.features(c["wav"], c["sr"]) for c in clips]
    by_voice = defaultdict(list)
    for i, c in enumerate(clips):
        by_voice[c["voice"]].append(i)
    for idx in by_voice.values():
        for i, p in zip(idx, grouped.classify([feats[i] for i in idx], normalise=True)):
            clips[i]["per_voice"] = max(p.probabilities, key=p.probabilities.get)
    return None


def score_judge(clips, held_out_actors: bool) -> None:
    """Adds the independent judge's 'judge_voice' / 'judge_file' labels and the per-voice score of
    the requested emotion ('judge_score'). With `held_out_actors` the judges leave out actors 21-24."""
    from bench.emotion_judge import Judge, compare_features, ravdess
    x, y, speakers = ravdess()
    if held_out_actors:
        train = np.array([int(s[-2:]) <= 20 for s in speakers])
        x, y, speakers = x[train], y[train], speakers[train]
    per_voice, per_file = Judge(x, y, speakers, "speaker"), Judge(x, y, speakers, "global")
    feats = compare_features([resample(c["wav"], c["sr"], 16000) for c in clips])
    for c, label in zip(clips, per_file.classify(feats)):
        c["judge_file"] = label
    by_voice = defaultdict(list)
    for i, c in enumerate(clips):
        by_voice[c["voice"]].append(i)
    for idx in by_voice.values():
        scores = per_voice.scores(feats[idx])
        for i, row in zip(idx, scores):
            clips[i]["judge_voice"] = per_voice.classes[int(row.argmax())]
            clips[i]["judge_score"] = {e: float(v) for e, v in zip(per_voice.classes, row)}


def pairwise(clips) -> tuple[float, int]:
    """Share of (voice, sentence, high-arousal emotion) where the judge scores the emotion higher on
    its rendering than on the neutral rendering of the same sentence, and how many pairs."""
    neutral = {(c["voice"], c["text"], c.get("source")): c for c in clips if c["emotion"] == "neutral"}
    wins = [c["judge_score"][c["emotion"]] > neutral[key]["judge_score"][c["emotion"]]
            for c in clips if c["emotion"] in HIGH_AROUSAL
            and (key := (c["voice"], c["text"], c.get("source"))) in neutral]
    return (float(np.mean(wins)) if wins else float("nan")), len(wins)


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
    parser.add_argument("--candidates-dir", type=Path, help="with --candidates: a kokoro-js voices/ folder too")
    parser.add_argument("--voice-table", type=Path, help="add the voices of this YAML (tts/voices.yaml layout)")
    parser.add_argument("--keep-voice", type=int, default=0, metavar="N",
                        help="also render N RAVDESS neutral clips (actors 21-24) with render_emotion")
    parser.add_argument("--emotions", nargs="+", default=list(EMOTIONS))
    parser.add_argument("--intensity", default="normal")
    parser.add_argument("--asr-model", default="base", help="Whisper model for the round-trip WER")
    parser.add_argument("--judge", default="on", choices=["on", "off"], help="the independent judge")
    parser.add_argument("--ser", default="configs/multicorpus.yaml",
                        help="SER config or checkpoint for the per-file score; 'off' skips SER")
    parser.add_argument("--ser-per-voice", default="configs/speaker_norm.yaml",
                        help="SER for the per-voice score (trained per speaker, as the issue's protocol asks)")
    parser.add_argument("--json", type=Path, help="write per-file results here")
    args = parser.parse_args()
    from tts import VOICES, add_voices, voice_names
    if args.voice_table:
        add_voices(args.voice_table)
    if args.candidates:
        VOICES.update(candidates(args.candidates_dir))
    voices = args.voices or (list(candidates(args.candidates_dir)) if args.candidates else voice_names())
    sentences = SENTENCES[:args.sentences]
    runs = []
    if sentences:
        runs.append(("synthesis", synthesise_all(voices, args.emotions, sentences, args.intensity)))
    if args.keep_voice:
        runs.append(("keep-voice", keep_voice_all(args.keep_voice, args.emotions, args.intensity)))
    for name, clips in runs:
        report(name, clips, args)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps([{k: v for k, v in c.items() if k != "wav"} for _, clips in runs
                                         for c in clips], indent=1))


def report(name: str, clips: list[dict], args) -> None:
    """Score one run (synthesis or keep-voice) and print its figures."""
    score_asr(clips, args.asr_model)
    if args.judge == "on":
        score_judge(clips, held_out_actors=name == "keep-voice")
    skipped = "--ser off" if args.ser == "off" else score_ser(clips, args.ser, args.ser_per_voice)
    voices = list(dict.fromkeys(c["voice"] for c in clips))
    print(f"\n=== {name}: {len(set(c['text'] for c in clips))} sentences x {len(voices)} voices x "
          f"{len(args.emotions)} emotions ({len(clips)} files), intensity {args.intensity}")
    judged = args.judge == "on"
    print("RTF: wall-clock seconds per second of audio; CPU: process CPU seconds per second of audio, all threads")
    print(f"{'voice':>13} {'RTF':>6} {'CPU':>6} {'F0 Hz':>6} {'WER %':>6}" + (" judge/voice judge/file" if judged else ""))
    f0 = {}
    for v in voices:
        mine = [c for c in clips if c["voice"] == v]
        audio = sum(len(c["wav"]) / c["sr"] for c in mine)
        rtf, cpu = sum(c["seconds"] for c in mine) / audio, sum(c["cpu"] for c in mine) / audio
        f0[v] = np.median([f0_median(c["wav"], c["sr"]) for c in mine if c["emotion"] == "neutral"] or [np.nan])
        wer = 100 * sum(c["errors"] for c in mine) / sum(c["words"] for c in mine)
        print(f"{v:>13} {rtf:6.3f} {cpu:6.3f} {f0[v]:6.0f} {wer:6.2f}" + (
            f" {recall(mine, 'judge_voice', args.emotions):11.3f} {recall(mine, 'judge_file', args.emotions):10.3f}"
            if judged else ""))
    print(f"{'all':>13} {'':>6} {'':>6} {'':>6} {100 * sum(c['errors'] for c in clips) / sum(c['words'] for c in clips):6.2f}"
          + (f" {recall(clips, 'judge_voice', args.emotions):11.3f} {recall(clips, 'judge_file', args.emotions):10.3f}"
             if judged else ""))
    if {"smallgirl", "youngwoman", "youngman", "middlemale"} <= set(f0):
        order = f0["smallgirl"] > f0["youngwoman"] > f0["youngman"] > f0["middlemale"]
        print(f"F0 order smallgirl > youngwoman > youngman > middlemale: {'holds' if order else 'DOES NOT hold'}")
    print("\n" + wer_by_sentence(clips))
    if "neutral" in args.emotions and len(args.emotions) > 1:
        from bench.tts_reach import achieved, table
        print("\nprofile reached? each rendering against the neutral one of the same voice and sentence "
              "(tts.render.measure; medians)\n" + table(achieved(clips), args.intensity,
                                                          [e for e in args.emotions if e != "neutral"]))
    if judged:
        share, n = pairwise(clips)
        print(f"\njudge ranks the requested high-arousal emotion above neutral: {100 * share:.1f} % of {n} pairs")
        for key, label in (("judge_voice", "per voice (standardised together)"), ("judge_file", "per file")):
            print(f"\nindependent judge, {label}: {100 * recall(clips, key, args.emotions):.1f} % "
                  f"(mean over emotions; chance {100 / len(args.emotions):.1f} %)")
            print(confusion(clips, key, args.emotions))
    if skipped:
        print(f"\nSER not scored: {skipped}")
    else:
        for key, label in (("per_file", "per file"), ("per_voice", "per-voice normalised")):
            print(f"\nproject's SER recognises the requested emotion ({label}): "
                  f"{100 * recall(clips, key, args.emotions):.1f} % (mean over emotions; chance "
                  f"{100 / len(args.emotions):.1f} %)")
            print(confusion(clips, key, args.emotions))


if __name__ == "__main__":
    main()
