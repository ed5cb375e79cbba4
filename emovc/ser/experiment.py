"""An experiment from a config: dataset -> cached features -> speaker-independent evaluation -> checkpoint."""
import json
import logging
import time
from pathlib import Path

import numpy as np
import yaml

from emovc.core.audio import atomic_path
from emovc.core.config import config_to_dict, resolve_path
from emovc.core.errors import UserError
from emovc.core.seed import set_seed
from emovc.ser.config import Experiment, data_sources
from emovc.ser.data import class_labels, load_dataset
from emovc.ser.evaluate import metrics, plot_confusion, splits
from emovc.ser.calibrate import Calibration, Novelty, expected_calibration_error, fit_calibration
from emovc.ser.features import Variant, build_feature_sets, extract_files
from emovc.ser.models import build_model, save_checkpoint
from emovc.ser.recognizer import batch_normalise, standardise

log = logging.getLogger(__name__)


def prepare(cfg: Experiment, progress: bool = True):
    """The dataset rows that have features, their features, and the feature sets used."""
    sets = build_feature_sets(cfg.features, cfg.source)
    df = load_dataset(data_sources(cfg), cfg.data.classes, cfg.data.label_map)
    X, failures = extract_files(sets, df["path"], resolve_path(cfg.output.cache), cfg.train.workers, progress,
                                cfg.train.scheduler)
    ok = np.array([x is not None for x in X], dtype=bool)
    if not ok.any():
        raise UserError(f"no clip of the dataset could be used ({failures[0] if failures else 'none'})")
    if failures:
        log.warning("%d of %d clips skipped", len(failures), len(X))
    return df[ok].reset_index(drop=True), [x for x in X if x is not None], sets


def augmented(cfg: Experiment, df, sets, progress: bool = True) -> list[list[np.ndarray | None]]:
    """For each clip of `df`, the features of its `data.augment.copies` augmented copies."""
    copies = []
    for k in range(cfg.data.augment.copies):
        variant = Variant(cfg.data.augment, k, cfg.seed)
        X, _ = extract_files(sets, df["path"], resolve_path(cfg.output.cache), cfg.train.workers, progress,
                             cfg.train.scheduler, variant)
        copies.append(X)
    return [[c[i] for c in copies if c[i] is not None] for i in range(len(df))]


class Trainer:
    """Fits the configured model on chosen clips (with their augmented copies)."""

    def __init__(self, cfg: Experiment, X, y, n_classes: int, extra, df):
        self.cfg, self.X, self.y, self.n, self.extra = cfg, X, y, n_classes, extra
        self.corpora, self.speakers = df["corpus"].astype(str).to_numpy(), df["speaker"].astype(str).to_numpy()

    def fit(self, idx: np.ndarray):
        """The model fitted on clips `idx` and their copies, weighted (`train.balance`) among them."""
        rows = np.array(list(idx) + [i for i in idx for _ in self.extra[i]], dtype=int)
        X = [self.X[i] for i in idx] + [x for i in idx for x in self.extra[i]]
        y, corpora = self.y[rows], self.corpora[rows]
        model = build_model(self.cfg.model, self.cfg.source)
        return model.fit(X, y, self.n, self.cfg.train, self.cfg.seed,
                         weights=None if self.cfg.train.balance == "class" else corpus_weights(corpora, y),
                         corpora=corpora, speakers=self.speakers[rows])

    def novelty(self, idx: np.ndarray) -> Novelty | None:
        """The novelty model of clips `idx` (their unaugmented features), if calibration uses one."""
        return Novelty.fit([self.X[i] for i in idx]) if self.cfg.calibration.novelty else None

    def novelty_of(self, idx: np.ndarray, test: np.ndarray) -> np.ndarray | None:
        """How unlike the clips `idx` each clip of `test` is (None without calibration.novelty)."""
        model = self.novelty(idx)
        return None if model is None else model.score([self.X[i] for i in test])

    def out_of_fold(self, folds) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities for every clip from a model that did not see its speaker (NaN if untested),
        and each clip's novelty to that model's training clips (NaN without calibration.novelty)."""
        probs, novelty = np.full((len(self.y), self.n), np.nan), np.full(len(self.y), np.nan)
        for k, (tr, te) in enumerate(folds):
            probs[te] = self.fit(tr).predict_proba([self.X[i] for i in te])
            d = self.novelty_of(tr, te)
            if d is not None:
                novelty[te] = d
            log.info("fold %d/%d: UAR %.3f", k + 1, len(folds),
                     metrics(self.y[te], probs[te].argmax(1), list(range(self.n)))["uar"])
        return probs, novelty


def corpus_weights(corpora: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Sample weights under which every class weighs the same and, within a class, every corpus
    that has it weighs the same (so the largest corpus does not decide the model)."""
    cell = np.char.add(np.char.add(np.asarray(corpora, str), "/"), y.astype(str))
    names, inverse, counts = np.unique(cell, return_inverse=True, return_counts=True)
    corpora_per_class = {c: len({n for n in names if n.endswith(f"/{c}")}) for c in np.unique(y)}
    w = 1.0 / (counts[inverse] * np.array([corpora_per_class[c] for c in y]))
    return w * len(y) / w.sum()


def train_experiment(cfg: Experiment, progress: bool = True) -> dict:
    """Evaluate by the configured scheme (and leave-one-corpus-out with several corpora), fit
    the calibration, fit on all data, write results and checkpoint; return metrics."""
    set_seed(cfg.seed)
    model = build_model(cfg.model, cfg.source)
    sets = build_feature_sets(cfg.features, cfg.source)
    if model.input_kind != sets[0].kind:
        raise UserError(f"{cfg.source}: model '{model.name}' needs {model.input_kind} features but "
                        f"'{sets[0].name}' gives {sets[0].kind}; see docs/ser.md for pairs that fit")
    if cfg.train.balance == "corpus" and not model.weighted:
        raise UserError(f"{cfg.source}: model '{model.name}' cannot take sample weights; set "
                        f"train.balance=class or use logreg or svm")
    if cfg.data.augment.copies and cfg.data.normalise == "speaker":
        raise UserError(f"{cfg.source}: data.augment does not combine with data.normalise=speaker; set one of them off")
    df, X, sets = prepare(cfg, progress)
    extra = augmented(cfg, df, sets, progress)
    if cfg.data.normalise == "speaker":
        X = by_speaker(X, df["speaker"].to_numpy(), cfg.source)
    labels = class_labels(df, cfg.data.classes)
    y = np.array([labels.index(e) for e in df["emotion"]])
    trainer = Trainer(cfg, X, y, len(labels), extra, df)
    folds = splits(df["speaker"].to_numpy(), y, labels, cfg.eval.scheme, cfg.eval.folds,
                   cfg.eval.test_speakers, cfg.seed)
    t0 = time.perf_counter()
    probs, novelty = trainer.out_of_fold(folds)
    tested = ~np.isnan(probs[:, 0])
    result = metrics(y[tested], probs[tested].argmax(1), labels)
    result.update(fold_uar=[metrics(y[te], probs[te].argmax(1), labels)["uar"] for _, te in folds],
                  scheme=cfg.eval.scheme, folds=len(folds), clips=int(len(y)),
                  augmented_copies=int(sum(map(len, extra))), speakers=int(df["speaker"].nunique()))
    corpora = df["corpus"].astype(str).to_numpy()
    cross = None
    if len(set(corpora)) > 1:
        result["per_corpus"] = {c: metrics(y[tested & (corpora == c)], probs[tested & (corpora == c)].argmax(1),
                                           labels)["uar"] for c in sorted(set(corpora))}
        if cfg.eval.cross_corpus and cfg.data.normalise != "speaker":
            cross = leave_one_corpus_out(trainer, df, labels)
    calibration, result["calibration"] = calibrate(cfg, probs[tested], novelty[tested], y[tested],
                                                   corpora[tested], cross)
    if cross:
        result["cross_corpus"] = cross.pop("scores")
    result["eval_seconds"] = round(time.perf_counter() - t0, 1)
    t1 = time.perf_counter()
    everything = np.arange(len(y))
    final = trainer.fit(everything)
    result["train_seconds"] = round(time.perf_counter() - t1, 1)
    write_results(cfg, result, final, sets, labels, calibration, trainer.novelty(everything))
    return result


def calibrate(cfg: Experiment, probs: np.ndarray, novelty: np.ndarray, y: np.ndarray, corpora: np.ndarray,
              cross: dict | None) -> tuple[Calibration, dict]:
    """The calibration to ship and how calibrated it leaves held-out speakers and corpora.

    `calibration.fit_on: speakers` fits it on the out-of-fold predictions (speakers the model
    did not see), `corpora` on the leave-one-corpus-out predictions, `both` on both; each
    corpus's held-out speakers and each left-out corpus is one pool, and pools count the same.
    Each held-out corpus's ECE uses a calibration fitted the same way without that corpus's
    clips, and is measured on the labels it shares with the others (renormalised), as its UAR is."""
    use_novelty = cfg.calibration.novelty
    pools = {}
    if cfg.calibration.fit_on in ("speakers", "both") or cross is None:
        for c in sorted(set(corpora)):
            pools[c, "speakers"] = (probs[corpora == c], y[corpora == c], novelty[corpora == c] if use_novelty else None)
    if cross is not None and cfg.calibration.fit_on in ("corpora", "both"):
        for c, p, t, n in zip(cross["corpora"], cross["probs"], cross["truth"], cross["novelty"]):
            pools[c, "left out"] = (p, t, n)

    def fit(chosen) -> Calibration:
        return Calibration() if cfg.calibration.method == "none" else fit_calibration(chosen, use_novelty)

    calibration = fit(list(pools.values()))
    calibrated = calibration.apply(probs, novelty if use_novelty else None)
    sure = calibrated.max(1) >= cfg.calibration.uncertain_below
    kinds = sorted({kind for _, kind in pools}, reverse=True)
    report = {"method": cfg.calibration.method, "fitted_on": " and ".join(
                  {"speakers": "held-out speakers", "left out": "held-out corpora"}[k] for k in kinds),
              "temperature": round(calibration.temperature, 4),
              "novelty_power": round(calibration.power, 4) if use_novelty else None,
              "ece_before": expected_calibration_error(probs, y), "ece": expected_calibration_error(calibrated, y),
              "uncertain_below": cfg.calibration.uncertain_below, "uncertain_share": float(1 - sure.mean()),
              "accuracy_when_certain": float(np.mean(calibrated[sure].argmax(1) == y[sure])) if sure.any() else None}
    if cross:
        per_corpus = {}
        for corpus, p, truth, shared, n in zip(cross["corpora"], cross["probs"], cross["truth"], cross["shared"],
                                               cross["novelty"]):
            cal = fit([v for (c, _), v in pools.items() if c != corpus])
            q = cal.apply(p, n)
            unsure = float(np.mean(q.max(1) < cfg.calibration.uncertain_below))    # over all labels, as shipped
            if len(shared) > 1:     # on the labels the corpus has, as its UAR (a corpus without
                p, q = (x[:, shared] / x[:, shared].sum(1, keepdims=True) for x in (p, q))   # 'neutral' cannot be wrong by it)
                truth = np.searchsorted(shared, truth)
            per_corpus[corpus] = {"temperature": round(cal.temperature, 4), "ece_before": expected_calibration_error(p, truth),
                                  "ece": expected_calibration_error(q, truth), "uncertain_share": unsure}
        report["held_out_corpora"] = per_corpus
        report["held_out_corpora_mean_ece"] = float(np.mean([v["ece"] for v in per_corpus.values()]))
    return calibration, report


def loco_corpora(df) -> list[str]:
    """The corpora leave-one-corpus-out tests: those with clips from at least 2 speakers (one
    speaker's clips test that speaker, not the corpus; such a corpus only ever trains)."""
    speakers = df.groupby(df["corpus"].astype(str))["speaker"].nunique()
    return sorted(c for c, n in speakers.items() if n >= 2)


def leave_one_corpus_out(trainer: Trainer, df, labels: list[str], tests: list[str] | None = None,
                         pool: np.ndarray | None = None) -> dict:
    """Train on all corpora but one, test on that one, for each corpus of `tests` in turn
    (default: `loco_corpora`); `pool` (a mask of clips, default all) limits what may train.

    The test corpus is scored on the labels it shares with the training corpora, the model's
    probabilities renormalised over those labels, with each label's recall; a corpus that shares a
    single label gets that label's recall among all labels instead. Each corpus is also scored with
    its speakers' features standardised per speaker (`speaker_norm`: what batch normalisation at
    inference does with one speaker's audio). `class_recall` is each label's recall averaged over
    the test corpora that have it. Returns the scores and, for calibration, each corpus's
    unrestricted probabilities, true labels and novelty (None without calibration.novelty).
    """
    y, X = trainer.y, trainer.X
    corpora, speakers = df["corpus"].astype(str).to_numpy(), df["speaker"].to_numpy()
    pool = np.ones(len(y), dtype=bool) if pool is None else pool
    scores, names, all_probs, truths, shared_labels, novelty = {}, [], [], [], [], []
    for corpus in sorted(set(corpora)) if tests is None else tests:
        if tests is None and corpus not in loco_corpora(df):
            scores[corpus] = {"skipped": "one speaker: it trains, but is never left out as a test set"}
            continue
        train, test = np.flatnonzero(pool & (corpora != corpus)), corpora == corpus
        shared = sorted(set(y[train]) & set(y[test]))
        test = np.flatnonzero(test & np.isin(y, shared))
        model = trainer.fit(train)
        probs = model.predict_proba([X[i] for i in test])
        names.append(corpus), all_probs.append(probs), truths.append(y[test]), shared_labels.append(shared)
        novelty.append(trainer.novelty_of(train, test))
        entry = {"labels": [labels[k] for k in shared], "clips": int(len(test))}
        if len(shared) < 2:         # UAR over one label is meaningless; report its recall among all
            entry["recall"] = float(np.mean(probs.argmax(1) == y[test]))
            entry["skipped"] = (f"shares only {', '.join(entry['labels'])} with the other corpora; its recall "
                                f"among all {len(set(y[train]))} labels: {entry['recall']:.3f}")
        else:
            truth = np.searchsorted(shared, y[test])
            for name, p in (("single_clip", probs),
                            ("speaker_norm", model.predict_proba(_per_speaker(model, [X[i] for i in test],
                                                                              speakers[test])))):
                m = metrics(truth, p[:, shared].argmax(1), entry["labels"])
                entry[name] = {k: m[k] for k in ("uar", "accuracy", "macro_f1", "confusion")}
                entry[name]["recall"] = {k: v["recall"] for k, v in m["per_class"].items()}
            log.info("leave out %s: UAR %.3f (per-speaker normalised %.3f)", corpus,
                     entry["single_clip"]["uar"], entry["speaker_norm"]["uar"])
        scores[corpus] = entry
    done = [v for v in scores.values() if "single_clip" in v]
    scores["mean_uar"] = float(np.mean([v["single_clip"]["uar"] for v in done])) if done else None
    scores["mean_uar_speaker_norm"] = float(np.mean([v["speaker_norm"]["uar"] for v in done])) if done else None
    scores["class_recall"] = {k: float(np.mean([v["single_clip"]["recall"][k] for v in done
                                                if k in v["single_clip"]["recall"]]))
                              for k in labels if any(k in v["single_clip"]["recall"] for v in done)}
    return {"scores": scores, "corpora": names, "probs": all_probs, "truth": truths, "shared": shared_labels,
            "novelty": novelty}


def _per_speaker(model, feats: list[np.ndarray], speakers: np.ndarray) -> list[np.ndarray]:
    out = list(feats)
    mean, std = model.input_stats()
    for s in np.unique(speakers):
        mine = np.flatnonzero(speakers == s)
        if len(mine) > 1:
            for i, x in zip(mine, batch_normalise([feats[i] for i in mine], mean, std)):
                out[i] = x
    return out


def by_speaker(X: list[np.ndarray], speakers: np.ndarray, source: str) -> list[np.ndarray]:
    """Each speaker's clips standardised by that speaker's own statistics (`data.normalise: speaker`)."""
    if (speakers == "").any() or min(np.unique(speakers, return_counts=True)[1]) < 2:
        raise UserError(f"{source}: data.normalise=speaker needs a speaker for every clip and at least 2 clips "
                        f"per speaker; fix the manifest or set data.normalise=none")
    out = list(X)
    for speaker in np.unique(speakers):
        mine = np.flatnonzero(speakers == speaker)
        for i, x in zip(mine, standardise([X[i] for i in mine])):
            out[i] = x
    return out


def write_results(cfg: Experiment, result: dict, model, sets, labels, calibration: Calibration = Calibration(),
                  novelty: Novelty | None = None) -> Path:
    out = resolve_path(cfg.output.results) / cfg.name
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "metrics.json", overwrite=True) as tmp:
        tmp.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    with atomic_path(out / "config.yaml", overwrite=True) as tmp:
        tmp.write_text(yaml.safe_dump(config_to_dict(cfg), sort_keys=False), encoding="utf-8")
    with atomic_path(out / "confusion.png", overwrite=True) as tmp:
        plot_confusion(result["confusion"], labels, tmp,
                       f"{cfg.name}: UAR {result['uar']:.3f} ({result['scheme']}, {result['folds']} folds)")
    checkpoint = resolve_path(cfg.output.checkpoint) if cfg.output.checkpoint else out / "checkpoint"
    save_checkpoint(checkpoint, model, [fs.spec() for fs in sets], labels, cfg.seed,
                    {"experiment": cfg.name, "normalise": cfg.data.normalise, "temperature": calibration.temperature,
                     "uncertain_below": cfg.calibration.uncertain_below,
                     "scores": {k: result[k] for k in ("accuracy", "uar", "macro_f1")}}, novelty, calibration)
    result["checkpoint"] = str(checkpoint)
    return out
