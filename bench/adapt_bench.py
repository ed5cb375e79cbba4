#!/usr/bin/env python
"""Session adaptation (ser/adapt.py) on streams of one speaker: per-clip against adapted.

The recogniser is the config's (features, model, augmentation; `--set` changes them), trained
out-of-fold: its speakers are split into grouped folds and each fold's model classifies the
speakers it never saw; the corpora not in the config (default ESD and ASED) are classified by
the shipped checkpoint itself (the config's output.checkpoint). Calibration: the shipped
checkpoint's, with each fold model's own novelty. Streams,
per speaker: `mixed` (all the speaker's clips in random order) and `one` (all of the speaker's
clips of one emotion, for each emotion). Every stream is classified clip by clip, the adapter
reset at its start. Figures are per corpus (pooled over its streams of a kind) and their mean over
corpora; a corpus's kind with fewer than MIN_CLIPS clips is shown in brackets and left out of the mean. Speakers alternate, in sorted order, between validation and test; each
method's prior weight is chosen on validation (the largest mixed-stream gain, less any
one-emotion loss beyond 0.02), and the method too; test reports all.

    python -m emovc.ser.build_adapt --config configs/multicorpus.yaml     # once: the checkpoint's adapt.npz
    python bench/adapt_bench.py [--config configs/multicorpus.yaml] [--folds 3] [--held-out esd ased]

Fold models are kept in results/adapt_bench/ and reused when their speakers match.
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PRIORS = (5.0, 10.0, 20.0)
ALLOWED_LOSS = 0.02
MIN_CLIPS = 50          # a corpus's streams of a kind with fewer clips are shown but not averaged (too few to tell)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="configs/multicorpus.yaml")
    parser.add_argument("--folds", type=int, default=3, help="speaker folds for the out-of-fold models")
    parser.add_argument("--held-out", nargs="*", default=["esd", "ased"], help="corpora in ../shared/data not in the config")
    parser.add_argument("--out", type=Path, default=Path("results/adapt_bench"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a key of the config for the out-of-fold models")
    args = parser.parse_args()
    from emovc.ser.adapt import METHODS
    from emovc.ser.config import load_experiment
    cfg = load_experiment(args.config, args.set)
    data = Data(cfg, args.set)
    clips = list(out_of_fold(data, args.folds, args.out))
    if args.held_out:
        clips.append(held_out(data, args.held_out))
    streams = [s for rec, df, X, y in clips for s in make_streams(rec, df, X, y, args.seed)]
    print(f"{len(streams)} streams, {sum(len(s['idx']) for s in streams)} clips", file=sys.stderr)
    for s in streams:
        s["none"] = run(s, None)
    results, chosen = {}, {}
    for method in METHODS:
        for prior in PRIORS:
            key = f"{method} {prior:g}"
            for s in streams:
                s[key] = run(s, s["rec"].session_adapter(method, prior))
            results[key] = score(streams, key)
            print(f"{key}: validation {summary(results[key]['validation'])}", file=sys.stderr)
        best = max((f"{method} {p:g}" for p in PRIORS), key=lambda k: selection(results[k]["validation"]))
        chosen[method] = best
    winner = max(chosen.values(), key=lambda k: selection(results[k]["validation"]))
    report(results, chosen, winner, streams)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps({"chosen": chosen, "winner": winner, "results": results},
                                                      indent=1) + "\n", encoding="utf-8")


class Data:
    """The config's clips, features and labels, read from the feature cache once; a model on any
    of its clips (with their augmented copies, read when first needed)."""

    def __init__(self, cfg, overrides: list[str]):
        from emovc.ser.data import class_labels
        from emovc.ser.experiment import prepare
        self.cfg, self.overrides = cfg, list(overrides)
        self.df, self.X, self.sets = prepare(cfg)
        self.labels = class_labels(self.df, cfg.data.classes)
        self.y = np.array([self.labels.index(e) for e in self.df["emotion"]])
        self.corpora = self.df["corpus"].astype(str).to_numpy()
        self.trainer = None

    def model(self, folder: Path, train: np.ndarray, held: list[str]):
        """The recogniser fitted on clips `train` (kept in `folder`, reused when its held-out speakers match)."""
        if not _reusable(folder, held, self.overrides):
            from emovc.ser.experiment import Trainer, augmented
            if self.trainer is None:
                self.trainer = Trainer(self.cfg, self.X, self.y, len(self.labels),
                                       augmented(self.cfg, self.df, self.sets), self.df)
            print(f"training {folder.name}…", file=sys.stderr, flush=True)
            _save(self.cfg, folder, self.trainer.fit(train), self.sets, self.labels, [self.X[i] for i in train],
                  self.y[train], self.corpora[train], {"held_out_speakers": held, "overrides": self.overrides})
        from emovc.ser.recognizer import Recognizer
        return Recognizer(folder)


def out_of_fold(data: Data, folds: int, out: Path):
    """(recogniser, clips, features, labels) per fold: the fold's model and the speakers it never saw."""
    from emovc.ser.evaluate import splits
    speakers = data.df["speaker"].astype(str).to_numpy()
    for k, (train, test) in enumerate(splits(speakers, data.y, data.labels, "group_kfold", folds, seed=data.cfg.seed)):
        rec = data.model(out / f"fold{k + 1}", train, sorted(set(speakers[test])))
        yield rec, data.df.iloc[test].reset_index(drop=True), [data.X[i] for i in test], data.y[test]


def held_out(data: Data, corpora: list[str]):
    """The corpora outside the config, classified by the shipped checkpoint (the config's
    output.checkpoint, with its adapt.npz from `python -m emovc.ser.build_adapt`)."""
    from emovc.ser.config import load_experiment
    from emovc.ser.experiment import prepare
    from emovc.ser.recognizer import load_recognizer
    rec = load_recognizer(data.cfg.source)
    where = Path(data.cfg.data.sources[0]).parent
    other = load_experiment(data.cfg.source, [f"data.sources=[{', '.join(str(where / c) for c in corpora)}]",
                                              "data.augment.copies=0", "data.classes=null"])
    df, X, _ = prepare(other)
    keep = df["emotion"].isin(rec.labels).to_numpy()
    df = df[keep].reset_index(drop=True)
    X = [x for x, k in zip(X, keep) if k]
    return rec, df, X, np.array([rec.labels.index(e) for e in df["emotion"]])


def _save(cfg, folder: Path, model, sets, labels, X, y, corpora, made: dict) -> None:
    from emovc.ser.adapt import class_means, save_class_means
    from emovc.ser.calibrate import Novelty
    from emovc.ser.models import save_checkpoint
    shipped = _shipped_calibration(cfg)
    mean, scale = model.input_stats()
    save_checkpoint(folder, model, [fs.spec() for fs in sets], labels, cfg.seed,
                    {"normalise": "none", "temperature": shipped.temperature,
                     "uncertain_below": cfg.calibration.uncertain_below, "bench": made},
                    Novelty.fit(X), shipped)
    save_class_means(folder, class_means(X, y, corpora, mean, scale, len(labels)))


def _shipped_calibration(cfg):
    from emovc.core.config import resolve_path
    from emovc.ser.models import load_calibration
    folder = resolve_path(cfg.output.checkpoint)
    return load_calibration(folder, json.loads((folder / "meta.json").read_text(encoding="utf-8")))[0]


def _reusable(folder: Path, held: list[str], overrides: list[str]) -> bool:
    meta = folder / "meta.json"
    return (folder / "adapt.npz").is_file() and meta.is_file() and json.loads(meta.read_text(
        encoding="utf-8")).get("bench") == {"held_out_speakers": held, "overrides": overrides}


def make_streams(rec, df, X, y, seed: int):
    """The mixed and one-emotion streams of every speaker, with their validation/test part."""
    rng = np.random.default_rng(seed)
    speakers = df["speaker"].astype(str).to_numpy()
    corpora = df["corpus"].astype(str).to_numpy()
    for corpus in sorted(set(corpora)):
        names = sorted(set(speakers[corpora == corpus]))
        for n, speaker in enumerate(names):
            part = "test" if n % 2 or len(names) == 1 else "validation"
            mine = np.flatnonzero((speakers == speaker) & (corpora == corpus))
            base = dict(rec=rec, X=X, y=y, corpus=corpus, speaker=speaker, part=part)
            if len(set(y[mine])) > 1:
                yield {**base, "kind": "mixed", "idx": rng.permutation(mine)}
            for c in sorted(set(y[mine])):
                yield {**base, "kind": "one", "idx": rng.permutation(mine[y[mine] == c])}


def run(stream, adapter) -> np.ndarray:
    """The top emotion of each clip of the stream, classified in order."""
    rec = stream["rec"]
    predictions = rec.classify([stream["X"][i] for i in stream["idx"]], adapter=adapter)
    return np.array([rec.labels.index(p.top) for p in predictions])


def _uar(truth: np.ndarray, predicted: np.ndarray) -> float:
    """Recall averaged over the emotions present (NaN for no clips)."""
    if not len(truth):
        return float("nan")
    return float(np.mean([np.mean(predicted[truth == c] == c) for c in np.unique(truth)]))


def score(streams, key: str) -> dict:
    """Per part and corpus: mixed-stream UAR per clip and adapted; one-emotion accuracy and UAR
    (recall per emotion, averaged) per clip and adapted; the mixed-stream UAR of clips past the
    first `prior` of their stream (per clip and adapted)."""
    out = {}
    for part in ("validation", "test"):
        out[part] = {}
        for corpus in sorted({s["corpus"] for s in streams if s["part"] == part}):
            row = {}
            for kind in ("mixed", "one"):
                chosen = [s for s in streams if s["part"] == part and s["corpus"] == corpus and s["kind"] == kind]
                if not chosen:
                    continue
                truth = np.concatenate([s["y"][s["idx"]] for s in chosen])
                before, after = (np.concatenate([s[k] for s in chosen]) for k in ("none", key))
                row[kind] = {"clips": len(truth), "streams": len(chosen), "counted": len(truth) >= MIN_CLIPS,
                             "uar": _uar(truth, before),
                             "uar_adapted": _uar(truth, after), "accuracy": float(np.mean(truth == before)),
                             "accuracy_adapted": float(np.mean(truth == after))}
                if kind == "mixed":
                    skip = int(float(key.split()[1])) if " " in key else 0
                    late = np.concatenate([np.arange(len(s["idx"])) >= skip for s in chosen])
                    row[kind]["uar_learnt"] = _uar(truth[late], before[late])
                    row[kind]["uar_learnt_adapted"] = _uar(truth[late], after[late])
            out[part][corpus] = row
    return out


def _mean(part: dict, kind: str, field: str) -> float:
    values = [v[kind][field] for v in part.values()
              if kind in v and v[kind]["counted"] and not np.isnan(v[kind][field])]
    return float(np.mean(values)) if values else float("nan")


def summary(part: dict) -> str:
    return (f"mixed UAR {_mean(part, 'mixed', 'uar'):.3f} -> {_mean(part, 'mixed', 'uar_adapted'):.3f}, "
            f"one-emotion accuracy {_mean(part, 'one', 'accuracy'):.3f} -> {_mean(part, 'one', 'accuracy_adapted'):.3f}")


def selection(part: dict) -> float:
    """Mixed-stream gain less the one-emotion accuracy loss beyond ALLOWED_LOSS (means over corpora)."""
    gain = _mean(part, "mixed", "uar_adapted") - _mean(part, "mixed", "uar")
    loss = _mean(part, "one", "accuracy") - _mean(part, "one", "accuracy_adapted")
    return gain - max(0.0, loss - ALLOWED_LOSS)


def report(results: dict, chosen: dict, winner: str, streams) -> None:
    """Markdown tables per part: per clip, then each method with its chosen prior (the mixed UAR
    past the prior as per clip -> adapted, since which clips count depends on the prior)."""
    print(f"chosen on validation speakers: {', '.join(chosen.values())}; best: {winner}")
    for part in ("validation", "test"):
        n = [s for s in streams if s["part"] == part]
        print(f"\n{part}: {len({(s['corpus'], s['speaker']) for s in n})} speakers, "
              f"{sum(s['kind'] == 'mixed' for s in n)} mixed and {sum(s['kind'] == 'one' for s in n)} one-emotion streams")
        corpora = sorted(results[winner][part])
        print("| | " + " | ".join(corpora) + " | mean |")
        print("|---|" + "---|" * (len(corpora) + 1))
        for kind, field, what in (("mixed", "uar", "mixed UAR"), ("one", "accuracy", "one-emotion accuracy"),
                                  ("one", "uar", "one-emotion UAR"), ("mixed", "uar_learnt", "mixed UAR past the prior")):
            rows = [("per clip", results[winner][part], field)] if field != "uar_learnt" else []
            rows += [(key, results[key][part], field + "_adapted") for key in chosen.values()]
            for name, res, f in rows:
                means = {kind: {field: _mean(res, kind, field), f: _mean(res, kind, f), "counted": True}}
                cells = [_cell(res[c], kind, field, f) for c in corpora] + [_cell(means, kind, field, f)]
                print(f"| {what}: {name} | " + " | ".join(cells) + " |")


def _cell(row: dict, kind: str, field: str, f: str) -> str:
    if kind not in row:
        return "—"
    text = f"{row[kind][field]:.3f} -> {row[kind][f]:.3f}" if field == "uar_learnt" else f"{row[kind][f]:.3f}"
    return text if row[kind].get("counted", True) else f"({text})"


if __name__ == "__main__":
    main()
