"""Benchmark the synthesis stage: real-time factor and median F0 per voice, round-trip WER
through the project's ASR, and whether the requested emotion is heard, by an independent judge
(bench/emotion_judge.py: ComParE + SVM trained on RAVDESS) and by the project's recogniser.

    nice python bench/tts_bench.py                   # 2 sentences x 4 voices x 8 emotions (minutes)
    nice python bench/tts_bench.py --sentences 12    # the full run the targets are stated on
    nice python bench/tts_bench.py --keep-voice 12 --sentences 0   # keep-voice on 12 RAVDESS neutral clips
    nice python bench/tts_bench.py --judge-sentences  # RAVDESS's two statements: like for like with its ceiling
    nice python bench/tts_bench.py --candidates [--candidates-dir kokoro-js/voices] --emotions neutral \
        --sentences 12 --ser off --judge off         # the raw engine voices the table was chosen from

Judge (the targets): per voice, each voice's renderings standardised together and classified by
the per-speaker judge; per file, each file alone by the corpus-standardised judge; pairwise, for
each voice and sentence, whether the requested high-arousal emotion scores higher on its rendering
than on the neutral rendering of the same sentence. `--keep-voice N` renders N RAVDESS neutral
clips of actors 21-24 with `tts.render_emotion` and scores them the same way with judges trained
on actors 1-20 (the speaker is the group).
Every judge figure stands beside its ceiling, the same judge's figure on real emotional speech of
held-out speakers selected like the run (bench/emotion_judge.py: `synthesis_ceiling`, 6-fold over
the RAVDESS actors; `keep_voice_ceiling`, the same actors' real takes of the same sentences), and
the ratio. The judges know RAVDESS's two statements only, so a synthesis run of new sentences is
also set beside `esd_ceiling`: ESD's real takes, a speaker and sentences the judges never heard,
over the emotions ESD has (run with `--emotions neutral happy sad angry surprised` for like for like).
Keep-voice also reports speaker similarity (bench/speaker_similarity.py) against the input, beside
the same measure on real takes; it needs bench/requirements-bench.txt.
`--renderer` profile (default: the global profiles), contour (the emotion model) or exemplar (the
exemplar bank); keep-voice uses the model or bank built without actors 21-24, with `--vocoder` psola
(default) or world.
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

from emovc.core.audio import resample  # noqa: E402
from emovc.core.errors import UserError  # noqa: E402
from emovc.core.labels import EMOTIONS  # noqa: E402
from bench.emotion_judge import pairwise, recall  # noqa: E402

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

# RAVDESS's two statements: the only sentences the judges were trained on (`--judge-sentences`).
JUDGE_SENTENCES = ["Kids are talking by the door.", "Dogs are sitting by the door."]

RENDERERS = ("contour", "exemplar", "profile")
HELD_OUT = {"contour": Path(__file__).resolve().parents[1] / "checkpoints" / "prosody_heldout",
            "exemplar": Path(__file__).resolve().parents[1] / "checkpoints" / "prosody_bank_heldout"}


def candidates(folder: Path | None = None) -> dict:
    """The untransformed engine voices considered for the four persons: Piper joe, the shipped
    English Kokoro voices, and every English voice of a kokoro-js `voices/` folder when given."""
    from emovc.tts.engines import shipped_kokoro_voices
    from emovc.tts.voices import Voice
    found = {f"kokoro_{k}": Voice(engine="kokoro", speaker=k)
             for k, (_, lang) in shipped_kokoro_voices().items() if lang.startswith("en")}
    if folder:
        found.update({f"kokoro_{f.stem}": Voice(engine="kokoro", speaker=f.stem, model=str(folder))
                      for f in sorted(Path(folder).glob("[ab][fm]_*.bin"))})
    return {"piper_joe": Voice(engine="piper"), **found}


def keep_voice_all(n: int, emotions, intensity, renderer: str, vocoder: str = "psola", folder: Path | None = None):
    """`tts.render_emotion` with `renderer` and `vocoder` on `n` RAVDESS neutral clips of actors 21-24
    (the 'voice' is the actor); the contour and exemplar renderers use the emotion model or bank built
    without those actors (HELD_OUT, or `folder`). Each clip keeps its 'input' waveform."""
    from bench.emotion_judge import RAVDESS, keep_voice_sources, ravdess_rows
    from emovc.core.audio import load_audio
    from emovc.tts import render_emotion
    clips = []
    for r in keep_voice_sources(ravdess_rows(), n):
        wav, sr = load_audio(RAVDESS / r["path"])
        for e in emotions:
            start, cpu = time.perf_counter(), time.process_time()
            out = render_emotion(wav, sr, e, intensity, renderer=renderer, vocoder=vocoder,
                                 emotion_model=folder or HELD_OUT.get(renderer))
            clips.append({"voice": r["speaker"], "emotion": e, "text": r["text"], "wav": out, "sr": sr,
                          "seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu,
                          "source": r["path"], "input": wav})
    return clips


def synthesise_all(voices, emotions, sentences, intensity, renderer: str, table):
    from emovc.tts import synthesize
    from emovc.tts.engines import load_engine
    from emovc.tts.voices import get_voice
    for v in voices:                                  # load outside the timings
        spec = get_voice(v, table)
        load_engine(spec.engine, spec.model)(sentences[0], spec.speaker)
    clips = []
    for v in voices:
        for e in emotions:
            for s in sentences:
                start, cpu = time.perf_counter(), time.process_time()
                wav, sr = synthesize(s, emotion=e, voice=v, intensity=intensity, renderer=renderer, voices=table)
                clips.append({"voice": v, "emotion": e, "text": s, "wav": wav, "sr": sr,
                              "seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu})
        print(f"synthesised {v}", flush=True)
    return clips


def f0_median(wav, sr) -> float:
    import parselmouth
    f0 = parselmouth.Sound(wav.astype(np.float64), sr).to_pitch(pitch_floor=60, pitch_ceiling=600).selected_array["frequency"]
    return float(np.median(f0[f0 > 0]))


def score_asr(clips, model: str) -> None:
    from emovc.asr import load_asr
    from emovc.asr.evaluate import errors
    asr = load_asr("whisper", model=model, language="en")
    for c in clips:
        heard = asr.transcribe(resample(c["wav"], c["sr"], 16000)).text
        c["heard"] = heard
        c["errors"], c["words"] = errors(c["text"], heard)


def score_ser(clips, per_file: str, per_voice: str) -> str | None:
    """Adds 'per_file' predictions (the `per_file` model, each file alone) and 'per_voice' ones (the
    `per_voice` model, each voice's renderings standardised together); returns why SER was skipped."""
    try:
        from emovc.ser import load_recognizer
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
    every emotion ('judge_score'). With `held_out_actors` the judges leave out actors 21-24."""
    from bench.emotion_judge import compare_features, judges, label
    label(clips, compare_features([resample(c["wav"], c["sr"], 16000) for c in clips]), *judges(held_out_actors))


def speaker_similarity(clips, emotions, intensity) -> str:
    """Adds each non-neutral keep-voice rendering's 'similarity' (cosine of speaker embeddings against
    its input) and returns the report: their mean beside the same measure on real speech, each real
    emotional take of the same actor and sentence against its neutral source, and different actors'
    neutral sources against each other."""
    from bench.emotion_judge import RAVDESS, ravdess_rows, real_takes
    from bench.speaker_similarity import ENCODER, between_speakers, cosines, embed
    from emovc.core.audio import load_audio
    emotional = [c for c in clips if c["emotion"] != "neutral"]
    if not emotional:
        return "speaker similarity: no non-neutral rendering to measure"
    sources = {c["source"]: c["voice"] for c in clips}
    rows = {r["path"]: r for r in ravdess_rows()}
    pairs = [(s, t) for s, t in real_takes(list(rows.values()), [rows[p] for p in sources], emotions, intensity)
             if t["emotion"] != "neutral"]
    try:
        emb = embed([(c["wav"], c["sr"]) for c in emotional] + [(c["input"], c["sr"]) for c in emotional]
                    + [load_audio(RAVDESS / p) for p in list(sources) + [t["path"] for _, t in pairs]])
    except ImportError as e:
        return f"speaker similarity not measured: {e}"
    out, inp, src, tak = np.split(emb, np.cumsum([len(emotional)] * 2 + [len(sources)]))
    for c, v in zip(emotional, cosines(out, inp)):
        c["similarity"] = float(v)
    at = {p: i for i, p in enumerate(sources)}
    same = cosines(tak, src[[at[s["path"]] for s, _ in pairs]])
    other = between_speakers(src, list(sources.values()))
    rows = [f"speaker similarity ({ENCODER}, cosine; mean over the non-neutral emotions):",
            f"{'renderings vs their input':>46}: {np.mean([c['similarity'] for c in emotional]):.3f} ({len(emotional)})",
            f"{'real take vs the same actor neutral take':>46}: {np.mean(same):.3f} ({len(same)})  <- same voice",
            f"{'different actors, neutral takes':>46}: "
            + (f"{np.mean(other):.3f} ({len(other)} pairs)  <- another voice" if other.size else "n/a (one actor)")]
    rows += [f"{e:>46}: renderings {np.mean([c['similarity'] for c in emotional if c['emotion'] == e]):.3f}, "
             f"real takes {np.mean([v for (_, t), v in zip(pairs, same) if t['emotion'] == e]):.3f}"
             for e in dict.fromkeys(c["emotion"] for c in emotional)]
    return "\n".join(rows)


def unseen_text_ceiling(clips, emotions) -> str:
    """The run beside a second ceiling: the same judges on ESD, real emotional speech of a speaker and
    of sentences RAVDESS (the judges' data, two sentences) never had, over the emotions ESD has."""
    from bench.emotion_judge import ESD, ESD_EMOTIONS, ESD_GROUP, esd_ceiling, figures, with_ceiling
    shared = [e for e in emotions if e in ESD_EMOTIONS]
    if not (ESD / "manifest.csv").is_file() or len(shared) < 2:
        return "ceiling on unseen sentences (ESD): n/a (needs ../shared/data/esd and two of its emotions)"
    real, run = figures(esd_ceiling(shared), shared), figures(clips, shared)
    note = "" if shared == list(emotions) else (f" (this run standardises {len(emotions)} emotions per voice; "
                                                f"rerun with --emotions {' '.join(shared)} for the like-for-like figure)")
    return (f"ceiling on unseen sentences: the same judge on ESD's real takes ("
            f"{', '.join(shared)}; one speaker and {ESD_GROUP}-sentence groups the judge never heard){note}\n"
            f"   per voice {with_ceiling(run['voice'], real['voice'])}, per file {with_ceiling(run['file'], real['file'])}, "
            f"high-arousal above neutral {with_ceiling(run['pairwise'], real['pairwise'], percent=True)}")


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=2, help=f"how many of the {len(SENTENCES)} sentences")
    parser.add_argument("--judge-sentences", action="store_true",
                        help="speak RAVDESS's two statements instead: the sentences of the judges' training "
                             "data and of the RAVDESS ceiling (like for like; not the targets' run)")
    parser.add_argument("--voices", nargs="+", default=None, help="default: all")
    parser.add_argument("--candidates", action="store_true", help="score the raw engine voices instead")
    parser.add_argument("--candidates-dir", type=Path, help="with --candidates: a kokoro-js voices/ folder too")
    parser.add_argument("--voice-table", type=Path, help="add the voices of this YAML (tts/voices.yaml layout)")
    parser.add_argument("--keep-voice", type=int, default=0, metavar="N",
                        help="also render N RAVDESS neutral clips (actors 21-24) with render_emotion")
    parser.add_argument("--emotions", nargs="+", default=list(EMOTIONS))
    parser.add_argument("--intensity", default="normal")
    parser.add_argument("--renderer", default="profile", choices=RENDERERS,
                        help="exemplar: the real contours of the nearest training takes; contour: the emotion "
                             "model (keep-voice: both built without actors 21-24); profile: the global profiles")
    parser.add_argument("--vocoder", default="psola", choices=["psola", "world"],
                        help="keep-voice with exemplar or contour: PSOLA + filter (default), or WORLD resynthesis")
    parser.add_argument("--emotion-model", type=Path, help="keep-voice: this model or bank folder instead")
    parser.add_argument("--asr-model", default="base", help="Whisper model for the round-trip WER")
    parser.add_argument("--judge", default="on", choices=["on", "off"], help="the independent judge")
    parser.add_argument("--ser", default="configs/multicorpus.yaml",
                        help="SER config or checkpoint for the per-file score; 'off' skips SER")
    parser.add_argument("--ser-per-voice", default="configs/speaker_norm.yaml",
                        help="SER for the per-voice score (trained per speaker, as the issue's protocol asks)")
    parser.add_argument("--json", type=Path, help="write per-file results here")
    args = parser.parse_args()
    from emovc.tts import voice_names, with_voices
    table = with_voices(args.voice_table)
    if args.candidates:
        table = {**table, **candidates(args.candidates_dir)}
    voices = args.voices or (list(candidates(args.candidates_dir)) if args.candidates else voice_names(table))
    sentences = JUDGE_SENTENCES if args.judge_sentences else SENTENCES[:args.sentences]
    runs = []
    if sentences:
        runs.append(("synthesis", synthesise_all(voices, args.emotions, sentences, args.intensity, args.renderer, table)))
    if args.keep_voice:
        runs.append(("keep-voice", keep_voice_all(args.keep_voice, args.emotions, args.intensity, args.renderer,
                                                  args.vocoder, args.emotion_model)))
    for name, clips in runs:
        report(name, clips, args)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps([{k: v for k, v in c.items() if k not in ("wav", "input")}
                                         for _, clips in runs for c in clips], indent=1))


def report(name: str, clips: list[dict], args) -> None:
    """Score one run (synthesis or keep-voice) and print its figures."""
    from bench.emotion_judge import corpus_intensity, figures, keep_voice_ceiling, synthesis_ceiling, with_ceiling
    score_asr(clips, args.asr_model)
    keep_voice = name == "keep-voice"
    if args.judge == "on":
        score_judge(clips, held_out_actors=keep_voice)
        real = (keep_voice_ceiling(args.keep_voice, args.emotions, args.intensity) if keep_voice
                else synthesis_ceiling(args.emotions, args.intensity))
        ceiling = figures(real, args.emotions)
    skipped = "--ser off" if args.ser == "off" else score_ser(clips, args.ser, args.ser_per_voice)
    voices = list(dict.fromkeys(c["voice"] for c in clips))
    print(f"\n=== {name}: {len(set(c['text'] for c in clips))} sentences x {len(voices)} voices x "
          f"{len(args.emotions)} emotions ({len(clips)} files), intensity {args.intensity}, renderer {args.renderer}"
          + (f", vocoder {args.vocoder}" if keep_voice and args.renderer != "profile" else ""))
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
        where = ("the same actors' real takes of the same sentences, judges trained on actors 1-20" if keep_voice
                 else "real takes of held-out RAVDESS actors, 6-fold over the actors")
        print(f"\nceiling: the same judge on {where} ({len(real)} takes, RAVDESS intensity "
              f"{corpus_intensity(args.intensity)}; neutral: normal); ratio = value / ceiling")
        share, n = pairwise(clips)
        print(f"judge ranks the requested high-arousal emotion above neutral: "
              f"{with_ceiling(share, ceiling['pairwise'], percent=True)} of {n} pairs ({ceiling['pairs']} real)")
        if not keep_voice and not args.judge_sentences:
            print(unseen_text_ceiling(clips, args.emotions))
        for key, label, fig in (("judge_voice", "per voice (standardised together)", "voice"),
                                ("judge_file", "per file", "file")):
            print(f"\nindependent judge, {label}: {with_ceiling(recall(clips, key, args.emotions), ceiling[fig])} "
                  f"(mean over emotions; chance {1 / len(EMOTIONS):.3f}: the judge chooses among all {len(EMOTIONS)})")
            print(confusion(clips, key, args.emotions))
            if keep_voice:
                print(f"the real takes, {label}:\n" + confusion(real, key, args.emotions))
    if keep_voice:
        print("\n" + speaker_similarity(clips, args.emotions, args.intensity))
    if skipped:
        print(f"\nSER not scored: {skipped}")
    else:
        for key, label in (("per_file", "per file"), ("per_voice", "per-voice normalised")):
            print(f"\nproject's SER recognises the requested emotion ({label}): "
                  f"{100 * recall(clips, key, args.emotions):.1f} % (mean over emotions; chance "
                  f"{100 / len(EMOTIONS):.1f} %: it chooses among all {len(EMOTIONS)})")
            print(confusion(clips, key, args.emotions))


if __name__ == "__main__":
    main()
