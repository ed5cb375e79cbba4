"""An experiment from a config: dataset -> cached features -> speaker-independent evaluation -> checkpoint."""
import json
import logging
import time
from pathlib import Path

import numpy as np
import yaml

from core.audio import atomic_path
from core.config import config_to_dict, resolve_path
from core.errors import UserError
from core.seed import set_seed
from ser.config import Experiment, data_sources
from ser.data import class_labels, load_dataset
from ser.evaluate import metrics, plot_confusion, splits
from ser.features import build_feature_sets, extract_files
from ser.models import build_model, save_checkpoint
from ser.recognizer import standardise

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


def train_experiment(cfg: Experiment, progress: bool = True) -> dict:
    """Evaluate by the configured scheme, fit on all data, write results and checkpoint; return metrics."""
    set_seed(cfg.seed)
    model = build_model(cfg.model, cfg.source)
    sets = build_feature_sets(cfg.features, cfg.source)
    if model.input_kind != sets[0].kind:
        raise UserError(f"{cfg.source}: model '{model.name}' needs {model.input_kind} features but "
                        f"'{sets[0].name}' gives {sets[0].kind}; see docs/ser.md for pairs that fit")
    df, X, sets = prepare(cfg, progress)
    if cfg.data.normalise == "speaker":
        X = by_speaker(X, df["speaker"].to_numpy(), cfg.source)
    labels = class_labels(df, cfg.data.classes)
    y = np.array([labels.index(e) for e in df["emotion"]])
    folds = splits(df["speaker"].to_numpy(), y, labels, cfg.eval.scheme, cfg.eval.folds,
                   cfg.eval.test_speakers, cfg.seed)
    predicted = np.full(len(y), -1)
    fold_uar, t0 = [], time.perf_counter()
    for k, (tr, te) in enumerate(folds):
        fold_model = build_model(cfg.model, cfg.source).fit([X[i] for i in tr], y[tr], len(labels), cfg.train, cfg.seed)
        predicted[te] = fold_model.predict_proba([X[i] for i in te]).argmax(1)
        fold_uar.append(metrics(y[te], predicted[te], labels)["uar"])
        log.info("fold %d/%d: UAR %.3f", k + 1, len(folds), fold_uar[-1])
    tested = predicted >= 0
    result = metrics(y[tested], predicted[tested], labels)
    result.update(fold_uar=fold_uar, scheme=cfg.eval.scheme, folds=len(folds), clips=int(len(y)),
                  speakers=int(df["speaker"].nunique()), eval_seconds=round(time.perf_counter() - t0, 1))
    t1 = time.perf_counter()
    final = model.fit(X, y, len(labels), cfg.train, cfg.seed)
    result["train_seconds"] = round(time.perf_counter() - t1, 1)
    write_results(cfg, result, final, sets, labels)
    return result


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


def write_results(cfg: Experiment, result: dict, model, sets, labels) -> Path:
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
                    {"experiment": cfg.name, "normalise": cfg.data.normalise,
                     "scores": {k: result[k] for k in ("accuracy", "uar", "macro_f1")}})
    result["checkpoint"] = str(checkpoint)
    return out
