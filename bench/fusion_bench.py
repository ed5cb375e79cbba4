#!/usr/bin/env python
"""Voice-only vs voice+text (late fusion) emotion recognition on a shared corpus: UAR per fusion
weight, text alone, and the weight learned on half the speakers and scored on the other half.

    python bench/fusion_bench.py --corpus urdu              # shipped model (unseen corpus) + Whisper words
    python bench/fusion_bench.py --corpus ravdess [--actors 8]   # out-of-fold voice model + the manifest's text

urdu: natural Urdu speech; the voice probabilities come from detect.py's recogniser with
configs/example.yaml (trained on RAVDESS only, so the corpus is unseen; the multi-corpus default
was trained on URDU too), the words from detect.py's ASR with language 'en' (Whisper then writes
English, mostly a rough translation), their emotion from ser/text.py.
ravdess: the shipped recogniser was trained on every RAVDESS clip, so its probabilities there
would be in-sample; this mode trains the same config per speaker fold (configs/example.yaml,
6 folds by actor, on the chosen actors only) and uses the held-out probabilities. Its text is one of two neutral sentences,
so it can only show what fusion costs when the words carry no emotion.
"""
import argparse
import csv
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from emovc.core.config import load_config  # noqa: E402
from emovc.core.labels import EMOTIONS  # noqa: E402
from emovc.ser.evaluate import metrics  # noqa: E402
from emovc.ser.text import text_emotion  # noqa: E402

WEIGHTS = [round(w, 2) for w in np.arange(0, 1.01, 0.1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=["urdu", "ravdess"], default="urdu")
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--limit", type=int, default=0, help="at most this many clips per emotion (0: all)")
    parser.add_argument("--actors", type=int, default=0, help="ravdess: only actors 1..N (0: all 24)")
    parser.add_argument("--config", default="configs/detect.yaml")
    parser.add_argument("--set", action="append", metavar="KEY=VALUE",
                        default=["ser.config=configs/example.yaml", "asr.language=en"],
                        help="detect config overrides (default: the RAVDESS-only recogniser, for which URDU "
                             "is unseen, and English words from Whisper)")
    parser.add_argument("--reuse", action="store_true",
                        help="score the probabilities and words saved by the last run (results/fusion_CORPUS.json)")
    args = parser.parse_args()
    saved = ROOT / "results" / f"fusion_{args.corpus}.json"
    t0 = time.perf_counter()
    if args.reuse:
        data = json.loads(saved.read_text(encoding="utf-8"))
        rows, voice, texts = data["rows"], np.array(data["voice"]), data["texts"]
    else:
        rows = _manifest(Path(args.data) / args.corpus, args.limit)
        if args.actors:
            rows = [r for r in rows if int(r["speaker"].rsplit("_", 1)[-1]) <= args.actors]
        voice, texts = (_urdu if args.corpus == "urdu" else _ravdess)(rows, args)
        saved.parent.mkdir(exist_ok=True)
        saved.write_text(json.dumps({"rows": rows, "voice": voice.tolist(), "texts": texts}), encoding="utf-8")
    text = np.array([[text_emotion(t).probabilities[e] for e in EMOTIONS] for t in texts])
    y = np.array([EMOTIONS.index(r["emotion"]) for r in rows])
    speakers = np.array([r["speaker"] for r in rows])
    present = sorted(set(y))
    labels = list(EMOTIONS)

    def uar(p, idx=slice(None)):
        """UAR with the decision among the corpus's own classes (the model knows all eight)."""
        return metrics(y[idx], np.array(present)[p[idx][:, present].argmax(1)], labels)["uar"]

    fused = {w: (1 - w) * voice + w * text for w in WEIGHTS}
    print(f"{args.corpus}: {len(rows)} clips, {len(set(speakers))} speakers, classes "
          f"{', '.join(EMOTIONS[k] for k in present)}; {time.perf_counter() - t0:.0f} s")
    print(f"texts the lexicon reads as not neutral: {np.mean(text.argmax(1) != 0):.0%}")
    print(f"UAR (decided among these classes): voice only {uar(voice):.3f}, text only {uar(text):.3f} "
          f"(chance {1 / len(present):.3f}); voice only over all 8 labels "
          f"{metrics(y, voice.argmax(1), labels)['uar']:.3f}")
    print("UAR by fusion weight: " + ", ".join(f"{w:g}: {uar(p):.3f}" for w, p in fused.items()))
    print("the same over all 8 labels: " + ", ".join(f"{w:g}: {metrics(y, p.argmax(1), labels)['uar']:.3f}"
                                                    for w, p in fused.items()))
    halves = _speaker_halves(speakers)
    scores = []
    for fit, test in (halves, halves[::-1]):
        best = max(WEIGHTS, key=lambda w: (uar(fused[w], fit), -w))
        scores.append((best, uar(fused[best], test), uar(voice, test)))
    print("weight learned on half the speakers, scored on the other half: "
          + "; ".join(f"w={w:g}: fused {f:.3f} vs voice {v:.3f}" for w, f, v in scores))


def _manifest(folder: Path, limit: int) -> list[dict]:
    with open(folder / "manifest.csv", newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["emotion"] in EMOTIONS]
    if limit:
        rows = [r for e in EMOTIONS for r in [r for r in rows if r["emotion"] == e][:limit]]
    for r in rows:
        r["path"] = str(folder / r["path"])
    return rows


def _urdu(rows: list[dict], args) -> tuple[np.ndarray, list[str]]:
    """detect.py's recogniser and ASR, per clip, exactly as its Analyzer answers them."""
    from tqdm import tqdm
    from emovc.core.audio import load_audio
    from emovc.convert import Converter, DetectConfig
    converter = Converter(load_config(args.config, DetectConfig, args.set))
    converter.load()
    voice, texts = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for r in tqdm(rows, desc="voice + ASR", file=sys.stderr):
            wav, _ = load_audio(r["path"], sr=16000)
            prediction = converter.analyzer.emotion(wav)
            voice.append([prediction.probabilities.get(e, 0.0) if prediction else 1 / 8 for e in EMOTIONS])
            texts.append(converter.analyzer.transcribe(wav).text)
    examples = [t for t in texts if t][:3]
    print("e.g. transcripts: " + " | ".join(json.dumps(t) for t in examples))
    return np.array(voice), texts


def _ravdess(rows: list[dict], args) -> tuple[np.ndarray, list[str]]:
    """Out-of-fold probabilities of configs/example.yaml (folds by actor), the manifest's text."""
    import tempfile
    from emovc.ser.config import load_experiment
    from emovc.ser.evaluate import splits
    from emovc.ser.experiment import prepare
    from emovc.ser.models import build_model
    with tempfile.TemporaryDirectory() as tmp:
        manifest = Path(tmp) / "manifest.csv"        # the chosen clips, absolute paths
        with open(manifest, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        cfg = load_experiment(ROOT / "configs" / "example.yaml",
                              [f"data.sources=[{manifest}]", "train.workers=1"])    # one core: the machine is shared
        df, X, _ = prepare(cfg)
    labels = list(cfg.data.classes)
    y = np.array([labels.index(e) for e in df["emotion"]])
    proba = np.zeros((len(y), len(EMOTIONS)))
    folds = min(6, df["speaker"].nunique())
    for train, test in splits(df["speaker"].to_numpy(), y, labels, "group_kfold", folds, [], cfg.seed):
        model = build_model(cfg.model, cfg.source).fit([X[i] for i in train], y[train], len(labels), cfg.train, cfg.seed)
        p = model.predict_proba([X[i] for i in test])
        proba[np.ix_(test, [EMOTIONS.index(label) for label in labels])] = p
    by_path = {str(Path(p).resolve()): i for i, p in enumerate(df["path"])}
    order = [by_path[str(Path(r["path"]).resolve())] for r in rows]
    return proba[order], [r["text"] for r in rows]


def _speaker_halves(speakers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Clip indices of two speaker-disjoint halves (speakers alternately, by clip count)."""
    names, counts = np.unique(speakers, return_counts=True)
    ordered = names[np.argsort(-counts, kind="stable")]
    first = set(ordered[::2])
    mask = np.array([s in first for s in speakers])
    return np.flatnonzero(mask), np.flatnonzero(~mask)


if __name__ == "__main__":
    main()
