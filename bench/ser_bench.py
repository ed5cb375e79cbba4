#!/usr/bin/env python
"""Speech-emotion benchmarks: in-corpus and cross-corpus scores, extraction, training and predict times.

    python bench/ser_bench.py                 # ~10 min on 2 cores once features are cached
    python bench/ser_bench.py --all           # adds the Keras CNN1D/LSTM/CNN2D rows (slow)
    python bench/ser_bench.py --only cross    # just the cross-corpus matrix (4 corpora)
    python bench/ser_bench.py --only layers   # which Whisper layers generalise: leave-one-corpus-out per feature set
    python bench/ser_bench.py --only corpora  # which training corpora help: the same test corpora for every set
    python bench/ser_bench.py --only corpora --set data.augment.copies=0   # the same without augmentation

In-corpus rows: speaker-independent 6-fold (GroupKFold by actor) on all 8 RAVDESS emotions.
Cross-corpus matrix: train on one corpus, test on another on the labels they share; 'corpus-norm'
standardises the test corpus's features by its own statistics (what `predict.py --normalise
batch` does), the usual remedy.
Prints Markdown tables; figures are merged into results/bench/ser.json.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from emovc.core.audio import load_audio  # noqa: E402
from emovc.core.paths import ROOT  # noqa: E402
from emovc.ser.config import Experiment, load_experiment  # noqa: E402
from emovc.ser.data import class_labels, load_dataset  # noqa: E402
from emovc.ser.evaluate import metrics, splits  # noqa: E402
from emovc.ser.experiment import Trainer, augmented, leave_one_corpus_out, prepare, train_experiment  # noqa: E402
from emovc.ser.features import SR, build_feature_sets, extract_files, extract_wave  # noqa: E402
from emovc.ser.models import build_model  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
# (config, overrides) per in-corpus row; all run on RAVDESS 8-class, 6 speaker folds.
ROWS = [
    ("configs/svm.yaml", ["features=[{name: egemaps}]", "name=bench_egemaps_svm", "model.params.C=1.0"]),
    ("configs/svm.yaml", ["name=bench_compare_svm"]),
    ("configs/mlp.yaml", ["name=bench_egemaps_librosa_mlp"]),
    ("configs/example.yaml", ["name=bench_whisper_egemaps_logreg"]),
    ("configs/example.yaml", ["name=bench_whisper_logreg", "features=[{name: whisper}]"]),
]
KERAS_ROWS = [("configs/cnn1d.yaml", ["name=bench_cnn1d"]), ("configs/lstm.yaml", ["name=bench_lstm"]),
              ("configs/cnn2d.yaml", ["name=bench_cnn2d"])]
CORPORA = ["ravdess", "urdu", "turevdb", "baved"]


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


def predict_latency(config: str, repeats: int = 5) -> float:
    """Median seconds for Recognizer.predict on one 4 s clip, model already loaded and warm."""
    from emovc.ser.recognizer import load_recognizer
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
    """Every ordered pair of corpora on the labels they share (at least 2), plain and with the
    test corpus standardised by its own statistics; the diagonal is speaker-independent in-corpus."""
    sets = build_feature_sets(cfg.features, cfg.source)
    data = {}
    for name in CORPORA:
        df = load_dataset(DATA / name)
        X, _ = extract_files(sets, df["path"], ROOT / cfg.output.cache, progress=False)
        ok = np.array([x is not None for x in X])
        data[name] = df[ok].reset_index(drop=True), np.stack([x for x in X if x is not None])

    def fit(X, y, n, d):
        return build_model(cfg.model, cfg.source).fit(list(X), y, n, cfg.train, cfg.seed,
                                                      corpora=d["corpus"].to_numpy(), speakers=d["speaker"].to_numpy())

    rows = []
    for train in CORPORA:
        cells = []
        for test in CORPORA:
            classes = sorted(set(data[train][0]["emotion"]) & set(data[test][0]["emotion"]))
            if len(classes) < 2:
                cells.append("—")
                continue
            (dtr, Xtr), (dte, Xte) = [(d[k], X[k]) for d, X in (data[train], data[test])
                                      for k in [d["emotion"].isin(classes).to_numpy()]]
            ytr, yte = (np.array([classes.index(e) for e in d["emotion"]]) for d in (dtr, dte))
            row = {"train": train, "test": test, "labels": classes}
            if train == test:
                pred = np.zeros(len(yte), int)
                for tr, te in splits(dte["speaker"].to_numpy(), yte, classes, folds=min(6, dte["speaker"].nunique())):
                    pred[te] = fit(Xte[tr], yte[tr], len(classes), dte.iloc[tr]).predict_proba(list(Xte[te])).argmax(1)
                row["uar"] = metrics(yte, pred, classes)["uar"]
                cells.append(f"**{row['uar']:.3f}**")
            else:
                model = fit(Xtr, ytr, len(classes), dtr)
                row["uar"] = metrics(yte, model.predict_proba(list(Xte)).argmax(1), classes)["uar"]
                normed = group_norm(Xte, dte["corpus"].to_numpy()) * model.input_stats()[1] + model.input_stats()[0]
                row["uar_corpus_norm"] = metrics(yte, model.predict_proba(list(normed)).argmax(1), classes)["uar"]
                cells.append(f"{row['uar']:.3f} / {row['uar_corpus_norm']:.3f} ({len(classes)})")
            rows.append(row)
        print(f"| {train} | " + " | ".join(cells) + " |", flush=True)
    return rows


LAYER_SETS = {   # feature combinations compared by leave-one-corpus-out (the shipped one last)
    "base output": ["{name: whisper, params: {model: base}}"],
    "base layer 2": ["{name: whisper, params: {model: base, layer: 2}}"],
    "base layer 3": ["{name: whisper, params: {model: base, layer: 3}}"],
    "base layer 4": ["{name: whisper, params: {model: base, layer: 4}}"],
    "egemaps": ["{name: egemaps}"],
    "tiny.en layer 2 + base layer 3": ["{name: whisper, params: {model: tiny.en, layer: 2}}",
                                       "{name: whisper, params: {model: base, layer: 3}}"],
    "base output + egemaps": ["{name: whisper, params: {model: base}}", "{name: egemaps}"],
    "tiny.en layer 2 + base layer 3 + egemaps": ["{name: whisper, params: {model: tiny.en, layer: 2}}",
                                                 "{name: whisper, params: {model: base, layer: 3}}", "{name: egemaps}"],
}


def layer_choice(config: str, out: Path) -> list[dict]:
    """Leave-one-corpus-out UAR of each feature set in LAYER_SETS with the config's model and
    weights, no augmentation, 3 speaker folds for the in-corpus column."""
    rows = []
    for name, features in LAYER_SETS.items():
        cfg = load_experiment(config, [f"features=[{', '.join(features)}]", "data.augment.copies=0", "eval.folds=3",
                                       "name=bench_layers", f"output.results={out}", "output.checkpoint=null"])
        r = train_experiment(cfg, progress=False)
        cross = r["cross_corpus"]
        rows.append({"features": name, "ravdess_uar": r["per_corpus"]["ravdess"], "loco_mean_uar": cross["mean_uar"],
                     "loco_mean_uar_speaker_norm": cross["mean_uar_speaker_norm"],
                     "loco": {c: v["single_clip"]["uar"] for c, v in cross.items()
                              if isinstance(v, dict) and "single_clip" in v}})
        print(f"| {name} | {rows[-1]['ravdess_uar']:.3f} | " + " | ".join(f"{v:.3f}" for v in rows[-1]["loco"].values())
              + f" | **{cross['mean_uar']:.3f}** | {cross['mean_uar_speaker_norm']:.3f} |", flush=True)
    return rows


BASE = ["ravdess", "urdu", "turevdb", "baved"]
CORPUS_SETS = {"4 corpora (the model shipped before)": BASE, "+ ESD + ASED": BASE + ["esd", "ased"],
               "+ ESD": BASE + ["esd"], "+ ASED": BASE + ["ased"]}
LOCO_TESTS = ["ravdess", "turevdb", "urdu", "ased"]     # ESD is one speaker: never a test set on its own


def corpus_choice(config: str, overrides: list[str] = ()) -> list[dict]:
    """For each set of training corpora in CORPUS_SETS, with the config's features, model, weights
    and augmentation: RAVDESS (and ASED) UAR from speaker-independent folds over that set, and
    each corpus of LOCO_TESTS left out in turn, trained on the set's other corpora (a test corpus
    outside the set is simply never trained on), so every row is scored on the same test speech.
    `overrides` are --set values for the config (e.g. data.augment.copies=0)."""
    every = CORPUS_SETS["+ ESD + ASED"]
    cfg = load_experiment(config, [f"data.sources=[{', '.join(str(DATA / c) for c in every)}]",
                                   "calibration.novelty=false", *overrides])
    df, X, sets = prepare(cfg, progress=False)
    extra = augmented(cfg, df, sets, progress=False)
    labels = class_labels(df, cfg.data.classes)
    y = np.array([labels.index(e) for e in df["emotion"]])
    trainer = Trainer(cfg, X, y, len(labels), extra, df)
    corpora, speakers = df["corpus"].astype(str).to_numpy(), df["speaker"].astype(str).to_numpy()
    rows = []
    for name, chosen in CORPUS_SETS.items():
        pool = np.isin(corpora, chosen)
        idx = np.flatnonzero(pool)
        folds = [(idx[tr], idx[te]) for tr, te in splits(speakers[idx], y[idx], labels, cfg.eval.scheme,
                                                         cfg.eval.folds, seed=cfg.seed)]
        probs, _ = trainer.out_of_fold(folds)
        in_corpus = {c: metrics(y[corpora == c], probs[corpora == c].argmax(1), labels)["uar"]
                     for c in ("ravdess", "ased") if c in chosen}
        cross = leave_one_corpus_out(trainer, df, labels, LOCO_TESTS, pool)["scores"]
        loco = {c: cross[c]["single_clip"]["uar"] for c in LOCO_TESTS}
        rows.append({"corpora": chosen, "clips": int(pool.sum()), "in_corpus_uar": in_corpus, "loco": loco,
                     "loco_labels": {c: cross[c]["labels"] for c in LOCO_TESTS},
                     "loco_recall": {c: cross[c]["single_clip"]["recall"] for c in LOCO_TESTS},
                     "loco_mean_3": float(np.mean([loco[c] for c in LOCO_TESTS[:3]])),
                     "loco_mean_4": float(np.mean(list(loco.values()))), "class_recall": cross["class_recall"]})
        r = rows[-1]
        print(f"| {name} | {r['clips']} | {in_corpus['ravdess']:.3f} | "
              + (f"{in_corpus['ased']:.3f}" if "ased" in in_corpus else "—") + " | "
              + " | ".join(f"{loco[c]:.3f} ({len(r['loco_labels'][c])})" for c in LOCO_TESTS)
              + f" | {r['loco_mean_3']:.3f} | **{r['loco_mean_4']:.3f}** | "
              + " ".join(f"{k} {v:.2f}" for k, v in r["class_recall"].items()) + " |", flush=True)
    return rows


def row_line(r: dict) -> str:
    return (f"| {r['features']} | {r['model']} | {r['accuracy']:.3f} | {r['uar']:.3f} | {r['macro_f1']:.3f} | "
            f"{r['extract_rtf']:.3f} | {r['train_seconds']:.1f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--all", action="store_true", help="also the Keras CNN1D, LSTM and CNN2D rows")
    parser.add_argument("--only", choices=["in", "cross", "latency", "layers", "corpora"], help="run one part")
    parser.add_argument("--config", default="configs/multicorpus.yaml",
                        help="the recogniser for the latency and cross-corpus parts (default: the shipped one)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="config override for --only corpora (repeatable), e.g. data.augment.copies=0")
    args = parser.parse_args()
    if not (DATA / "ravdess" / "manifest.csv").is_file():
        sys.exit(f"error: corpora not found at {DATA}; the benchmark needs ../shared/data")
    out = ROOT / "results" / "bench"
    saved = out / "ser.json"
    report = json.loads(saved.read_text()) if saved.is_file() else {}
    if args.only in (None, "latency"):
        report["predict_latency_s"] = predict_latency(args.config)
        print(f"warm predict, one 4 s clip ({args.config}): {report['predict_latency_s']:.3f} s\n")
    if args.only in (None, "in"):
        print("| features | model | accuracy | UAR | macro-F1 | extract s per audio s | train s (all data) |")
        print("|---|---|---|---|---|---|---|")
        report["in_corpus"] = in_corpus(ROWS + (KERAS_ROWS if args.all else []), out)
        print()
    if args.only in (None, "cross"):
        print(f"UAR, rows train, columns test ({args.config} features and model, no augmentation): plain / "
              f"test corpus standardised by its own statistics (labels shared); diagonal: speaker-independent\n")
        print("| train \\ test | " + " | ".join(CORPORA) + " |")
        print("|---|" + "---|" * len(CORPORA))
        report["cross_corpus"] = cross_corpus(load_experiment(args.config, ["data.augment.copies=0"]))
    if args.only == "layers":
        print("| features | RAVDESS UAR (3 folds) | left out: ravdess | turevdb | urdu | mean | mean, speakers standardised |")
        print("|---|---|---|---|---|---|---|")
        report["layers"] = layer_choice(args.config, out)
    if args.only == "corpora":
        print("| training corpora | clips | RAVDESS UAR (in-corpus) | ASED UAR (in-corpus) | left out: "
              + " | ".join(LOCO_TESTS) + " (labels) | mean of the first 3 | mean of 4 | recall per label, left out |")
        print("|---|---|---|---|" + "---|" * len(LOCO_TESTS) + "---|---|---|")
        report["corpora"] = corpus_choice(args.config, args.set)
    out.mkdir(parents=True, exist_ok=True)
    saved.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
