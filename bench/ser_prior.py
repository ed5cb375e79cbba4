#!/usr/bin/env python
"""Does a per-label bias learnt on held-out corpora help a corpus the model never saw? (issue 19)

    python bench/ser_prior.py                                   # + ESD, no augmentation
    python bench/ser_prior.py --set model.params.contrast=corpus

For each test corpus T (RAVDESS, TurEV-DB, URDU), the model is trained on the other corpora S
(the shipped features, classifier and weights). Plain: its single-clip UAR on T (on the labels T
shares with S). Bias: before that, each corpus c of S with at least 2 speakers and 2 shared
labels is left out of S in turn (a model trained on S without c predicts c), and one bias per
label b is fitted on those predictions, minimising the class-balanced negative log-likelihood of
softmax(log p + b) over each left-out corpus's shared labels (each corpus counts the same; a
small L2 penalty keeps the bias of a label no inner corpus tests at 0); T's predictions are then
argmax(log p + b). T is never used to choose anything: the bias is learnt from S alone (bias-
corrected calibration, as in Alexandari et al. 2020, but from held-out corpora). Prints each
corpus's UAR and each label's recall, plain and with the bias, and their mean over the 3 corpora.
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from emovc.core.paths import ROOT  # noqa: E402
from emovc.ser.config import load_experiment  # noqa: E402
from emovc.ser.data import class_labels  # noqa: E402
from emovc.ser.evaluate import metrics  # noqa: E402
from emovc.ser.experiment import Trainer, augmented, leave_one_corpus_out, loco_corpora, prepare  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
SETS = {"+ ESD": ["ravdess", "urdu", "turevdb", "baved", "esd"],
        "4 corpora": ["ravdess", "urdu", "turevdb", "baved"]}
TESTS = ["ravdess", "turevdb", "urdu"]


def fit_bias(pools: list[tuple[np.ndarray, np.ndarray, list[int]]], n: int, l2: float = 1e-2) -> np.ndarray:
    """One bias per label minimising the class-balanced NLL of softmax(log p + b) on each pool's
    shared labels (pools: probabilities over all n labels, true labels, shared labels), pools equal."""
    from scipy.optimize import minimize
    data = []
    for p, y, shared in pools:
        logp = np.log(np.clip(p[:, shared], 1e-12, 1.0))
        t = np.searchsorted(shared, y)
        counts = np.bincount(t, minlength=len(shared))
        w = 1.0 / (counts[t] * len(np.unique(t)))
        data.append((logp, t, w, np.asarray(shared)))

    def loss(b):
        value, grad = l2 * np.sum(b ** 2), 2 * l2 * b
        for logp, t, w, shared in data:
            s = logp + b[shared]
            s = s - s.max(1, keepdims=True)
            q = np.exp(s)
            q /= q.sum(1, keepdims=True)
            value += -np.sum(w * np.log(q[np.arange(len(t)), t] + 1e-300)) / len(data)
            g = (q - np.eye(len(shared))[t]) * w[:, None] / len(data)
            np.add.at(grad, shared, g.sum(0))
        return value, grad

    return minimize(loss, np.zeros(n), jac=True, method="L-BFGS-B").x


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpora", choices=list(SETS), default="+ ESD")
    parser.add_argument("--config", default="configs/multicorpus.yaml")
    parser.add_argument("--set", action="append", default=[], help="config override (repeatable)")
    parser.add_argument("--out", default="results/bench/ser_prior.json")
    args = parser.parse_args()
    chosen = SETS[args.corpora]
    cfg = load_experiment(args.config, [f"data.sources=[{', '.join(str(DATA / c) for c in chosen)}]",
                                        "calibration.novelty=false", "data.augment.copies=0", *args.set])
    df, X, sets = prepare(cfg, progress=False)
    extra = augmented(cfg, df, sets, progress=False)
    labels = class_labels(df, cfg.data.classes)
    y = np.array([labels.index(e) for e in df["emotion"]])
    trainer = Trainer(cfg, X, y, len(labels), extra, df)
    corpora = df["corpus"].astype(str).to_numpy()
    report = {"corpora": chosen, "overrides": args.set, "tests": {}}
    for test in TESTS:
        pool = corpora != test
        inner = [c for c in loco_corpora(df[pool])
                 if len(set(y[pool & (corpora != c)]) & set(y[corpora == c])) >= 2]
        cross = leave_one_corpus_out(trainer, df, labels, inner, pool)
        pools = [(p, t, s) for p, t, s in zip(cross["probs"], cross["truth"], cross["shared"]) if len(s) >= 2]
        bias = fit_bias(pools, len(labels))
        outer = leave_one_corpus_out(trainer, df, labels, [test], pool | (corpora == test))
        p, truth, shared = outer["probs"][0], outer["truth"][0], outer["shared"][0]
        t = np.searchsorted(shared, truth)
        names = [labels[k] for k in shared]
        entry = {"labels": names, "inner": [c for c, (_, _, s) in zip(cross["corpora"], pools) if len(s) >= 2],
                 "label_bias": {labels[k]: round(float(b), 3) for k, b in enumerate(bias)}}
        for kind, scores in (("plain", np.log(np.clip(p, 1e-12, 1))),
                             ("bias", np.log(np.clip(p, 1e-12, 1)) + bias)):
            m = metrics(t, scores[:, shared].argmax(1), names)
            entry[kind] = {"uar": m["uar"], "accuracy": m["accuracy"], "macro_f1": m["macro_f1"],
                           "recall": {k: v["recall"] for k, v in m["per_class"].items()}}
        report["tests"][test] = entry
        print(f"{test}: inner {entry['inner']}  bias {entry['label_bias']}", flush=True)
        for kind in ("plain", "bias"):
            e = entry[kind]
            print(f"  {kind}: UAR {e['uar']:.3f} acc {e['accuracy']:.3f} F1 {e['macro_f1']:.3f}  "
                  + " ".join(f"{k} {v:.2f}" for k, v in e["recall"].items()), flush=True)
    for kind in ("plain", "bias"):
        done = report["tests"].values()
        report[f"mean_uar_{kind}"] = float(np.mean([e[kind]["uar"] for e in done]))
        report[f"class_recall_{kind}"] = {k: float(np.mean([e[kind]["recall"][k] for e in done if k in e[kind]["recall"]]))
                                          for k in labels if any(k in e[kind]["recall"] for e in done)}
        print(f"{kind}: mean UAR {report[f'mean_uar_{kind}']:.3f}  "
              + " ".join(f"{k} {v:.2f}" for k, v in report[f"class_recall_{kind}"].items()), flush=True)
    out = ROOT / args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
