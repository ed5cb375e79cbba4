"""Build the exemplar bank (tts/exemplar.py) from a YAML config, and measure it on held-out speech.

Held out by speaker (`eval.speakers`, never in the bank while they are scored) and, optionally, by
sentence (`eval.sentences` ESD sentences): each held-out pair's predicted change is compared frame by
frame with what the real emotional take did, for every `eval.k`, beside the emotion model trained
without those speakers (when `eval.model` names it), the emotion's mean change over the bank (a
global profile) and no change. `k` is chosen by the person reading these figures, never by a
recogniser. Writes results/<name>/metrics.json and the bank to `output.checkpoint`.

    python -m emovc.tts.build_bank --config configs/prosody_bank.yaml
"""
import json
import time
from pathlib import Path

import numpy as np

from emovc.core.cli import ArgumentParser, add_config_options, run
from emovc.core.config import load_config
from emovc.core.errors import UserError
from emovc.core.paths import ROOT
from emovc.tts.contours import OUTPUTS, model_inputs, speech_span
from emovc.tts.emotion_model import TARGET_EMOTIONS, aligned_pairs, cached_analysis, pairs
from emovc.tts.emotion_model import load as load_emotion_model
from emovc.tts.exemplar import BankExperiment, ExemplarBank, bank_arrays, records, relevel, save
from emovc.tts.train_emotion import contour_correlation, scores, utterance_spread

HELD_OUT_MODEL = ROOT / "checkpoints" / "prosody_heldout"    # the emotion model without RAVDESS actors 21-24


def select(rec: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
    return {k: v[rows] for k, v in rec.items()}


class Profile:
    """The emotion's mean change over the bank, the same at every frame (a global profile)."""

    def __init__(self, rec: dict[str, np.ndarray]):
        self.rec = rec

    def edit(self, f0, energy, emotion, intensity):
        rows = (self.rec["emotion"] == TARGET_EMOTIONS.index(emotion)) & (self.rec["strong"] == (intensity >= 0.75))
        out = np.tile(self.rec["residual"][rows].mean(axis=(0, 1)), (len(f0), 1)).astype(np.float32)
        start, end = speech_span(energy)
        out[:start, OUTPUTS.index("stretch")] = 0.0
        out[end:, OUTPUTS.index("stretch")] = 0.0
        return out


def held_out_scores(methods: dict, test_pairs, log=print) -> dict:
    """Per method: RMSE per output, pitch-contour correlation and spread error on the test pairs' frames."""
    analysis = cached_analysis(sorted({r["path"] for p in test_pairs for r in p}))
    cols = {"x": [], "y": [], "w": [], "pair": [], "ratio": []}
    preds = {name: [] for name in methods}
    for i, n, e, cn, (s0, s1), (t0, t1), y, w in aligned_pairs(test_pairs, analysis):
        intensity = 1.0 if e["intensity"] == "strong" else 0.5
        for name, method in methods.items():
            preds[name].append(method(cn.f0, cn.energy, e["emotion"], intensity)[s0:s1])
        cols["ratio"].append(np.log((t1 - t0) / (s1 - s0)))
        for k, v in (("x", model_inputs(cn.f0, cn.energy)[s0:s1]), ("y", y), ("w", w), ("pair", np.full(len(y), i))):
            cols[k].append(v)
    x, y, w, pair = (np.concatenate(cols[k]) for k in ("x", "y", "w", "pair"))
    out = {"pairs": int(len(np.unique(pair))), "frames": int(len(y))}
    for name, p in preds.items():
        duration = [np.log(np.exp(q[:, OUTPUTS.index("stretch")]).mean()) for q in p]
        p = np.concatenate(p)
        out[name] = {"rmse": scores(p, y, w), "pitch_contour_r": contour_correlation(p, x, y, w, pair),
                     "spread_error": utterance_spread(p, x, y, w, pair),
                     "duration_error": float(np.sqrt(np.mean((np.array(duration) - np.array(cols["ratio"])) ** 2)))}
        if log:
            r = out[name]
            log(f"{name:>16}: " + " ".join(f"{o} {r['rmse'][o]:.3f}" for o in OUTPUTS[:3])
                + f" bands {np.mean([r['rmse'][o] for o in OUTPUTS[3:]]):.3f} r {r['pitch_contour_r']:.3f} "
                f"spread {r['spread_error']['pitch_std']:.2f}/{r['spread_error']['energy_std']:.2f} "
                f"duration {r['duration_error']:.3f}")
    return out


def methods_for(rec, cfg: BankExperiment, model: Path | None, level: bool = True) -> dict:
    """The bank at every `eval.k`, the held-out emotion model, the profile and no change; `level`:
    other corpora moved to RAVDESS's levels (`relevel`), as shipped; ESD's own sentences are scored
    against ESD's own levels."""
    rec = relevel(rec) if level else rec
    bank = ExemplarBank(bank_arrays(rec, cfg.k, cfg.means))
    methods = {f"bank k={k}{' pool' if pool else ''}": (lambda k, pool: lambda f0, en, e, i: bank.edit(f0, en, e, i, k, pool))(k, pool)
               for pool in (False, True) for k in cfg.eval.k}
    if model and model.is_dir():
        methods["model (MLP)"] = load_emotion_model(model).edit
    methods["profile"] = Profile(rec).edit
    methods["none"] = lambda f0, en, e, i: np.zeros((len(f0), len(OUTPUTS)), np.float32)
    return methods


def build(cfg: BankExperiment, log=print) -> dict:
    started = time.time()
    pair_list = pairs(cfg.data.sources, cfg.data.hold_out)
    if not pair_list:
        raise UserError("no parallel takes found in data.sources; check the manifests")
    rec = records(pair_list, log)
    metrics = {"pairs": int(len(rec["key"]))}
    if cfg.eval.speakers:
        log(f"held out by speaker: {', '.join(cfg.eval.speakers)}")
        train = ~np.isin(rec["speaker"], cfg.eval.speakers)
        test_pairs = [p for p in pair_list if p[0]["speaker"] in cfg.eval.speakers]
        metrics["held_out_speakers"] = held_out_scores(methods_for(select(rec, train), cfg, HELD_OUT_MODEL), test_pairs, log)
    if cfg.eval.sentences:
        texts = sorted({t for t, c in zip(rec["text"], rec["corpus"]) if c == "esd"})[-cfg.eval.sentences:]
        log(f"held out by sentence: {len(texts)} ESD sentences")
        train = ~np.isin(rec["text"], texts)
        norm = lambda r: " ".join(r["text"].lower().split()).strip(" .!?")
        test_pairs = [p for p in pair_list if p[0]["corpus"] == "esd" and norm(p[0]) in texts]
        metrics["held_out_sentences"] = held_out_scores(methods_for(select(rec, train), cfg, None, level=False), test_pairs, log)
    metrics["build_seconds"] = round(time.time() - started, 1)
    save(bank_arrays(relevel(rec), cfg.k, cfg.means), Path(cfg.output.checkpoint),
         {"name": cfg.name, "k": cfg.k, "means": cfg.means, "corpora": sorted(set(rec["corpus"])),
          "speakers": sorted(set(rec["speaker"])), "metrics": metrics})
    out = Path(cfg.output.results) / cfg.name
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n", encoding="utf-8")
    return metrics


def main(argv=None) -> int:
    parser = ArgumentParser(prog="python -m emovc.tts.build_bank", description=__doc__.splitlines()[0])
    add_config_options(parser, what="exemplar-bank YAML", example="k=1")
    args = parser.parse_args(argv)
    cfg = load_config(args.config, BankExperiment, args.set)
    build(cfg)
    print(f"bank: {cfg.output.checkpoint}/  results: {Path(cfg.output.results) / cfg.name}/")
    return 0


if __name__ == "__main__":
    run(main)
