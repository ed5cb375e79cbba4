"""Train and evaluate the emotion model (tts/emotion_model.py) from a YAML config.

Evaluation holds speakers out: grouped folds over the speakers of `eval.corpus` (RAVDESS), the
other corpora (ESD's one speaker) always training. Each held-out frame's predicted change is
compared with what the real emotional take did there, beside two baselines: no change, and the
emotion's mean change over the training speakers (a global profile). Writes
results/<name>/{metrics.json, config.yaml} and the model to `output.checkpoint`.

    python -m emovc.tts.train_emotion --config configs/prosody.yaml [--set train.epochs=10]
"""
import json
import time
from pathlib import Path

import numpy as np

from emovc.core.cli import ArgumentParser, add_config_options, run
from emovc.core.config import config_to_dict, load_config
from emovc.core.errors import UserError
from emovc.core.seed import set_seed
from emovc.tts.contours import OUTPUTS
from emovc.tts.emotion_model import (
    TARGET_EMOTIONS,
    ProsodyExperiment,
    build_rows,
    conditioned,
    fit,
    match_spread,
    pairs,
    save,
    spread_ratios,
)


def profile_baseline(emotion, intensity, y, w, emotion_test, intensity_test) -> np.ndarray:
    """Each test row gets the training rows' mean change for its emotion and intensity."""
    out = np.zeros((len(emotion_test), y.shape[1]), np.float32)
    for e in np.unique(emotion_test):
        for level in np.unique(intensity_test):
            train = (emotion == e) & (intensity == level)
            if not train.any():
                train = emotion == e
            mean = (y[train] * w[train]).sum(0) / np.maximum(w[train].sum(0), 1e-6)
            out[(emotion_test == e) & (intensity_test == level)] = mean
    return out


def scores(pred: np.ndarray, y: np.ndarray, w: np.ndarray) -> dict[str, float]:
    """Weighted RMSE per output."""
    return {name: float(np.sqrt((w[:, k] * (pred[:, k] - y[:, k]) ** 2).sum() / max(w[:, k].sum(), 1e-6)))
            for k, name in enumerate(OUTPUTS)}


def contour_correlation(pred: np.ndarray, x: np.ndarray, y: np.ndarray, w: np.ndarray, pair: np.ndarray) -> float:
    """Mean over held-out pairs of the correlation between the predicted and the real emotional
    pitch contour (neutral pitch + change) over the frames where both takes are voiced."""
    neutral = x[:, 12]                                    # pitch of the frame itself (CONTEXT offset 0)
    values = []
    for k in np.unique(pair):
        rows = (pair == k) & (w[:, 0] > 0)
        if rows.sum() >= 10:
            a, b = neutral[rows] + pred[rows, 0], neutral[rows] + y[rows, 0]
            if a.std() > 1e-6 and b.std() > 1e-6:
                values.append(np.corrcoef(a, b)[0, 1])
    return float(np.mean(values)) if values else float("nan")


def utterance_spread(pred: np.ndarray, x: np.ndarray, y: np.ndarray, w: np.ndarray, pair: np.ndarray) -> dict:
    """Mean absolute error, over held-out pairs, of the emotional take's pitch and energy spread
    (standard deviation over the utterance: st, dB) as predicted vs as real; what functionals of
    a contour (its range and dynamics) hear, whatever its exact shape."""
    pitch, energy = x[:, 12], 10 * x[:, 14]             # the frame's own pitch (st) and level (dB)
    errors = {"pitch_std": [], "energy_std": []}
    for k in np.unique(pair):
        rows = pair == k
        for name, base, col in (("pitch_std", pitch, 0), ("energy_std", energy, 1)):
            keep = rows & (w[:, col] > 0)
            if keep.sum() >= 10:
                errors[name].append(abs(np.std(base[keep] + pred[keep, col]) - np.std(base[keep] + y[keep, col])))
    return {name: float(np.mean(v)) for name, v in errors.items()}


def direction(pred, y, w, emotion) -> dict[str, dict[str, list[float]]]:
    """Per emotion: [predicted, real] mean change of pitch, energy and stretch on the held-out rows."""
    out = {}
    for e, name in enumerate(TARGET_EMOTIONS):
        rows = emotion == e
        out[name] = {o: [float((w[rows, k] * pred[rows, k]).sum() / max(w[rows, k].sum(), 1e-6)),
                         float((w[rows, k] * y[rows, k]).sum() / max(w[rows, k].sum(), 1e-6))]
                     for k, o in enumerate(OUTPUTS[:3])}
    return out


def spread_matched(pred, x, w, emotion, intensity, pair, ratios, energy: bool = True) -> np.ndarray:
    """`pred` with each pair's pitch (and with `energy`, energy) change rescaled to the training
    takes' spread, as `EmotionModel.spread` does."""
    out = pred.copy()
    for k in np.unique(pair):
        rows = pair == k
        ratio = ratios[emotion[rows][0], int(intensity[rows][0] == 1.0)]
        for col, base, mask in ((0, x[:, 12], w[:, 0] > 0), (1, 10 * x[:, 14], w[:, 1] > 0))[:2 if energy else 1]:
            out[rows, col] = match_spread(base[rows], pred[rows, col], mask[rows], ratio[col])
    return out


def pair_means(pred: np.ndarray, w: np.ndarray, pair: np.ndarray) -> np.ndarray:
    """`pred` with its pitch and energy change replaced by their mean over each pair's rows (the
    `neutral` shape of tts.emotion_model.neutral_shape, on evaluation rows)."""
    out = pred.copy()
    for k in np.unique(pair):
        rows = pair == k
        for col in (0, 1):
            keep = rows & (w[:, col] > 0)
            if keep.any():
                out[rows, col] = pred[keep, col].mean()
    return out


def evaluate(cfg: ProsodyExperiment, rows, pair_list, corpus_speakers: np.ndarray, log=print) -> dict:
    """Grouped folds over `corpus_speakers`; the rows of other speakers always train."""
    x, emotion, intensity, y, w, speaker, pair = rows
    folds = np.array_split(np.random.default_rng(cfg.seed).permutation(corpus_speakers), cfg.eval.folds)
    preds = {"learned": np.zeros_like(y), "learned, raw": np.zeros_like(y), "neutral": np.zeros_like(y),
             "profile": np.zeros_like(y), "none": np.zeros_like(y)}
    tested = np.zeros(len(y), bool)
    for i, held in enumerate(folds):
        test = np.isin(speaker, held)
        log(f"fold {i + 1}/{len(folds)}: holding out {', '.join(sorted(held))} ({test.sum()} rows)")
        model = fit(conditioned(x[~test], emotion[~test], intensity[~test]), y[~test], w[~test], cfg, log=log)
        raw = model.predict(conditioned(x[test], emotion[test], intensity[test]))
        ratios = spread_ratios([p for p in pair_list if p[0]["speaker"] not in held])
        preds["learned, raw"][test] = raw
        preds["learned"][test] = spread_matched(raw, x[test], w[test], emotion[test], intensity[test], pair[test], ratios)
        preds["neutral"][test] = spread_matched(pair_means(raw, w[test], pair[test]), x[test], w[test], emotion[test],
                                                intensity[test], pair[test], ratios, energy=False)
        preds["profile"][test] = profile_baseline(emotion[~test], intensity[~test], y[~test], w[~test],
                                                  emotion[test], intensity[test])
        tested |= test
    t = tested
    return {"held_out_speakers": int(len(corpus_speakers)), "rows": int(t.sum()),
            "rmse": {k: scores(p[t], y[t], w[t]) for k, p in preds.items()},
            "pitch_contour_correlation": {k: contour_correlation(p[t], x[t], y[t], w[t], pair[t])
                                          for k, p in preds.items()},
            "spread_error": {k: utterance_spread(p[t], x[t], y[t], w[t], pair[t]) for k, p in preds.items()},
            "mean_change_predicted_vs_real": direction(preds[cfg.net.shape][t], y[t], w[t], emotion[t])}


def train_emotion_model(cfg: ProsodyExperiment, log=print) -> dict:
    set_seed(cfg.seed)
    started = time.time()
    pair_list = pairs(cfg.data.sources, cfg.data.hold_out)
    if not pair_list:
        raise UserError("no parallel takes found (a neutral and an emotional take of the same words by one "
                        "speaker) in data.sources; check the manifests")
    corpora = list(dict.fromkeys(n["corpus"] for n, _ in pair_list))     # in data.sources order
    rows = build_rows(pair_list, corpora, cfg.data.frame_step)
    speakers = rows[5]
    corpus = np.array(sorted({n["speaker"] for n, _ in pair_list if cfg.eval.corpus in n["path"]}))
    log(f"{len(pair_list)} pairs, {len(speakers)} rows, {len(set(speakers))} speakers")
    metrics = {"pairs": len(pair_list), "rows": int(len(speakers))}
    if cfg.eval.folds >= 2 and len(corpus) >= cfg.eval.folds:
        metrics["held_out"] = evaluate(cfg, rows, pair_list, corpus, log)
    x, emotion, intensity, y, w = rows[:5]
    model = fit(conditioned(x, emotion, intensity), y, w, cfg, log=log)
    model.arrays["spread"] = spread_ratios(pair_list)
    if cfg.net.shape == "neutral":
        model.arrays["neutral_shape"] = np.ones(1, np.float32)
    metrics["train_seconds"] = round(time.time() - started, 1)
    save(model, Path(cfg.output.checkpoint), {"name": cfg.name, "seed": cfg.seed, "corpora": corpora,
                                               "speakers": sorted(set(speakers)), "metrics": metrics})
    out = Path(cfg.output.results) / cfg.name
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n", encoding="utf-8")
    import yaml
    (out / "config.yaml").write_text(yaml.safe_dump(config_to_dict(cfg), sort_keys=False), encoding="utf-8")
    return metrics


def summary(metrics: dict) -> str:
    """The held-out figures as a small table."""
    held = metrics.get("held_out")
    if not held:
        return "no held-out evaluation (eval.folds: 0)"
    lines = [f"held-out speakers: {held['held_out_speakers']}, {held['rows']} frames; RMSE per output "
             f"(pitch st, energy dB, stretch log, bands dB)",
             f"{'':>10} " + " ".join(f"{o:>7}" for o in OUTPUTS) + "  pitch-contour r  spread error st / dB"]
    for k, r in held["rmse"].items():
        spread = held["spread_error"][k]
        lines.append(f"{k:>10} " + " ".join(f"{r[o]:7.3f}" for o in OUTPUTS)
                     + f"  {held['pitch_contour_correlation'][k]:15.3f}  {spread['pitch_std']:.2f} / {spread['energy_std']:.2f}")
    lines.append("mean change on held-out speakers, predicted / real: pitch st, energy dB, stretch")
    for e, d in held["mean_change_predicted_vs_real"].items():
        lines.append(f"{e:>10} " + "  ".join(f"{d[o][0]:+6.2f}/{d[o][1]:+6.2f}" for o in OUTPUTS[:3]))
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = ArgumentParser(prog="python -m emovc.tts.train_emotion", description=__doc__.splitlines()[0])
    add_config_options(parser, what="emotion-model YAML", example="train.epochs=10")
    args = parser.parse_args(argv)
    cfg = load_config(args.config, ProsodyExperiment, args.set)
    metrics = train_emotion_model(cfg)
    print(summary(metrics))
    print(f"model: {cfg.output.checkpoint}/  results: {Path(cfg.output.results) / cfg.name}/")
    return 0


if __name__ == "__main__":
    run(main)
