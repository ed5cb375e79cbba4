#!/usr/bin/env python
"""Speech-emotion benchmarks: in-corpus and cross-corpus scores, extraction, training and predict times.

    python bench/ser_bench.py                 # ~10 min on 2 cores once features are cached
    python bench/ser_bench.py --all           # adds the Keras CNN1D/LSTM rows (slow)
    python bench/ser_bench.py --only cross    # just the cross-corpus table

In-corpus rows: speaker-independent 6-fold (GroupKFold by actor) on all 8 RAVDESS emotions.
Cross-corpus rows: train on one corpus, test on another on the labels they share; 'corpus-norm'
standardises each corpus's features by its own statistics (what `predict.py --normalise batch`
does), 'speaker-norm' each speaker's: the usual remedies.
Prints Markdown tables; figures are merged into results/bench/ser.json.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.audio import load_audio  # noqa: E402
from core.config import ROOT  # noqa: E402
from ser.config import Experiment, load_experiment  # noqa: E402
from ser.data import load_dataset  # noqa: E402
from ser.evaluate import metrics, splits  # noqa: E402
from ser.experiment import train_experiment  # noqa: E402
from ser.features import SR, build_feature_sets, extract_files, extract_wave  # noqa: E402
from ser.models import build_model  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
# (config, overrides) per in-corpus row; all run on RAVDESS 8-class, 6 speaker folds.
ROWS = [
    ("configs/svm.yaml", ["features=[{name: egemaps}]", "name=bench_egemaps_svm", "model.params.C=1.0"]),
    ("configs/svm.yaml", ["name=bench_compare_svm"]),
    ("configs/mlp.yaml", ["name=bench_egemaps_librosa_mlp"]),
    ("configs/example.yaml", ["name=bench_whisper_egemaps_logreg"]),
    ("configs/example.yaml", ["name=bench_whisper_logreg", "features=[{name: whisper}]"]),
]
KERAS_ROWS = [("configs/cnn1d.yaml", ["name=bench_cnn1d"]), ("configs/lstm.yaml", ["name=bench_lstm"])]
CROSS = [("ravdess", "urdu", ["neutral", "happy", "sad", "angry"]),
         ("urdu", "ravdess", ["neutral", "happy", "sad", "angry"]),
         ("ravdess", "turevdb", ["calm", "happy", "sad", "angry"]),
         ("turevdb", "ravdess", ["calm", "happy", "sad", "angry"]),
         ("ravdess", "urdu", ["happy", "sad", "angry"]),
         ("ravdess+turevdb", "urdu", ["happy", "sad", "angry"])]     # multi-corpus training


def in_corpus(rows, out: Path) -> list[dict]:
    results = []
    for config, overrides in rows:
        cfg = load_experiment(config, overrides + [f"output.results={out}", "output.checkpoint=null"])
        r = train_experiment(cfg, progress=False)
        sets = build_feature_sets(cfg.features, cfg.source)
        results.append({"features": " + ".join(s.name for s in sets), "model": cfg.model.name,
                        "accuracy": r["accuracy"], "uar": r["uar"], "macro_f1": r["macro_f1"],
                        "extract_rtf": extraction_rtf(sets), "train_seconds": r["train_seconds"]})
        print(row_line(results[-1]), flush=True)
    return results


def extraction_rtf(sets, clips: int = 12) -> float:
    """Seconds of feature extraction per second of audio, uncached, one process (after a warm-up)."""
    df = load_dataset(DATA / "ravdess").sample(clips + 1, random_state=0)
    waves = [load_audio(p, sr=SR)[0] for p in df["path"]]
    extract_wave(sets, waves[0])
    t = time.perf_counter()
    for w in waves[1:]:
        extract_wave(sets, w)
    return (time.perf_counter() - t) / sum(len(w) / SR for w in waves[1:])


def predict_latency(config: str = "configs/example.yaml", repeats: int = 5) -> float:
    """Median seconds for Recognizer.predict on one 4 s clip, model already loaded and warm."""
    from ser.recognizer import load_recognizer
    rec = load_recognizer(config)
    wav, sr = load_audio(DATA / "ravdess" / "Actor_01" / "03-01-05-02-01-01-01.flac")
    wav = np.pad(wav, (0, max(0, 4 * sr - len(wav))))[: 4 * sr]
    rec.predict(wav, sr)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        rec.predict(wav, sr)
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def group_norm(X: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Standardise each group's features (a speaker, or a whole corpus) by its own statistics."""
    X = X.copy()
    for s in np.unique(groups):
        m = groups == s
        X[m] = (X[m] - X[m].mean(0)) / (X[m].std(0) + 1e-8)
    return X


def cross_corpus(cfg: Experiment) -> list[dict]:
    sets = build_feature_sets(cfg.features, cfg.source)
    loaded = {}

    def corpus(names, classes):
        parts = [one(name, classes) for name in names.split("+")]
        return pd.concat([p[0] for p in parts], ignore_index=True), np.concatenate([p[1] for p in parts])

    def one(name, classes):
        if name not in loaded:
            df = load_dataset(DATA / name)
            X, _ = extract_files(sets, df["path"], ROOT / cfg.output.cache, progress=False)
            ok = np.array([x is not None for x in X])
            loaded[name] = df[ok].reset_index(drop=True), np.stack([x for x in X if x is not None])
        df, X = loaded[name]
        keep = df["emotion"].isin(classes).to_numpy()
        return df[keep].reset_index(drop=True), X[keep]

    rows = []
    for train, test, classes in CROSS:
        dtr, Xtr = corpus(train, classes)
        dte, Xte = corpus(test, classes)
        ytr = np.array([classes.index(e) for e in dtr["emotion"]])
        yte = np.array([classes.index(e) for e in dte["emotion"]])
        row = {"train": train, "test": test, "labels": classes}
        for tag in ("plain", "corpus_norm", "spk_norm"):
            A, B = Xtr, Xte
            if tag != "plain":
                by = "speaker" if tag == "spk_norm" else "corpus"
                A, B = group_norm(Xtr, dtr[by].to_numpy()), group_norm(Xte, dte[by].to_numpy())
            model = build_model(cfg.model, cfg.source).fit(list(A), ytr, len(classes), cfg.train, cfg.seed)
            row[f"cross_{tag}"] = metrics(yte, model.predict_proba(list(B)).argmax(1), classes)["uar"]
        folds = splits(dte["speaker"].to_numpy(), yte, classes, folds=min(6, dte["speaker"].nunique()))
        pred = np.zeros(len(yte), int)
        for tr, te in folds:
            m = build_model(cfg.model, cfg.source).fit(list(Xte[tr]), yte[tr], len(classes), cfg.train, cfg.seed)
            pred[te] = m.predict_proba(list(Xte[te])).argmax(1)
        row["in_corpus_test"] = metrics(yte, pred, classes)["uar"]
        rows.append(row)
        print(f"| {train} -> {test} | {', '.join(classes)} | {row['in_corpus_test']:.3f} | "
              f"{row['cross_plain']:.3f} | {row['cross_corpus_norm']:.3f} | {row['cross_spk_norm']:.3f} |", flush=True)
    return rows


def row_line(r: dict) -> str:
    return (f"| {r['features']} | {r['model']} | {r['accuracy']:.3f} | {r['uar']:.3f} | {r['macro_f1']:.3f} | "
            f"{r['extract_rtf']:.3f} | {r['train_seconds']:.1f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--all", action="store_true", help="also the Keras CNN1D and LSTM rows")
    parser.add_argument("--only", choices=["in", "cross", "latency"], help="run one part")
    args = parser.parse_args()
    if not (DATA / "ravdess" / "manifest.csv").is_file():
        sys.exit(f"error: corpora not found at {DATA}; the benchmark needs ../shared/data")
    out = ROOT / "results" / "bench"
    saved = out / "ser.json"
    report = json.loads(saved.read_text()) if saved.is_file() else {}
    if args.only in (None, "latency"):
        report["predict_latency_s"] = predict_latency()
        print(f"warm predict, one 4 s clip (configs/example.yaml): {report['predict_latency_s']:.3f} s\n")
    if args.only in (None, "in"):
        print("| features | model | accuracy | UAR | macro-F1 | extract s per audio s | train s (all data) |")
        print("|---|---|---|---|---|---|---|")
        report["in_corpus"] = in_corpus(ROWS + (KERAS_ROWS if args.all else []), out)
        print()
    if args.only in (None, "cross"):
        print("| train -> test | labels | in-corpus UAR on test corpus | cross UAR | cross UAR, corpus-norm | "
              "cross UAR, speaker-norm |")
        print("|---|---|---|---|---|---|")
        report["cross_corpus"] = cross_corpus(load_experiment("configs/example.yaml", ["features=[{name: whisper}]"]))
    out.mkdir(parents=True, exist_ok=True)
    saved.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
