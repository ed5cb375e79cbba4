"""The API other stages use: load a trained model once, classify waveforms or files."""
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.audio import resample
from core.config import resolve_path
from core.errors import UserError
from ser.data import canonical_label
from ser.features import SR, build_feature_sets, extract_wave
from ser.models import load_calibration, load_checkpoint

DEFAULT_CONFIG = "configs/multicorpus.yaml"


UNCERTAIN = "uncertain"
ADAPT_METHOD, ADAPT_PRIOR = "anchored", 5.0      # session adaptation: chosen by bench/adapt_bench.py


@dataclass(frozen=True)
class Prediction:
    """An emotion with the probability of each; the label is 'uncertain' when the model's top
    probability is below the checkpoint's threshold (the probabilities are still given)."""
    label: str
    probabilities: dict[str, float]

    @property
    def top(self) -> str:
        """The most probable emotion, whether or not the model is sure of it."""
        return max(self.probabilities, key=self.probabilities.get)

    @property
    def confidence(self) -> float:
        return self.probabilities[self.top]

    @classmethod
    def of(cls, labels: list[str], probs, uncertain_below: float = 0.0) -> "Prediction":
        probabilities = {l: float(v) for l, v in zip(labels, probs)}
        top = max(probabilities, key=probabilities.get)
        return cls(UNCERTAIN if probabilities[top] < uncertain_below else top, probabilities)


class Recognizer:
    """A checkpoint's model with its feature extractor."""

    def __init__(self, checkpoint: str | os.PathLike):
        self.checkpoint = Path(checkpoint)
        self.model, self.meta = load_checkpoint(self.checkpoint)
        self.labels: list[str] = self.meta["labels"]
        self.feature_sets = build_feature_sets(self.meta["features"], str(self.checkpoint / "meta.json"))
        if self.feature_sets[0].kind != self.model.input_kind:
            raise UserError(f"{self.checkpoint}: model '{self.model.name}' cannot read "
                            f"{self.feature_sets[0].kind} features; the checkpoint is inconsistent")
        self.per_speaker = self.meta.get("normalise", "none") == "speaker"
        self.calibration, self.novelty = load_calibration(self.checkpoint, self.meta)
        self.uncertain_below = float(self.meta.get("uncertain_below", 0.0))

    def features(self, wav: np.ndarray, sr: int, where: str = "audio") -> np.ndarray:
        """The checkpoint's features for a waveform (samples, or samples x channels) at rate `sr`."""
        wav = np.asarray(wav, dtype=np.float32)
        wav = resample(wav.mean(axis=1) if wav.ndim == 2 else wav, sr, SR)
        return extract_wave(self.feature_sets, wav, where)

    def classify(self, features: list[np.ndarray], normalise: bool = False, adapter=None) -> list[Prediction]:
        """Predictions for precomputed features; `normalise` standardises them as one batch
        (per-speaker or per-recording-condition normalisation, the usual cross-corpus remedy);
        `adapter` (a `ser.adapt.SessionAdapter`) classifies them in order as windows of one session.

        A model trained with `data.normalise: speaker` needs that: a batch of one speaker's clips."""
        if adapter is not None:
            return [self._adapted(x, adapter) for x in features]
        if self.per_speaker:
            if not normalise:
                raise UserError(f"{self.checkpoint}: this model was trained on per-speaker standardised "
                                f"features; classify several clips of one speaker together (predict.py --normalise batch)")
            features = standardise(features)
        elif normalise:
            features = batch_normalise(features, *self.model.input_stats())
        return [Prediction.of(self.labels, p, self.uncertain_below) for p in self.probabilities(features)]

    def probabilities(self, features: list[np.ndarray]) -> np.ndarray:
        """The calibrated probabilities (rows) of precomputed features."""
        probs = self.model.predict_proba(features)          # checks the features' dimensions first
        novelty = None if self.novelty is None else self.novelty.score(features)
        return self.calibration.apply(probs, novelty)

    def _adapted(self, x: np.ndarray, adapter) -> Prediction:
        p = self.probabilities([adapter.features(x)])[0]
        q = adapter.probabilities(p)
        adapter.learn(x, p)
        return Prediction.of(self.labels, q, self.uncertain_below)

    def session_adapter(self, method: str = ADAPT_METHOD, prior: float = ADAPT_PRIOR):
        """A new `ser.adapt.SessionAdapter` for this model (one per live stream or recording)."""
        from ser.adapt import ANCHORED, MEANS, SessionAdapter, load_class_means
        if self.per_speaker:
            raise UserError(f"{self.checkpoint}: a per-speaker model classifies batches; it takes no session adapter")
        mean, scale = self.model.input_stats()
        means = load_class_means(self.checkpoint, self.labels, len(mean))
        if means is None and method in ANCHORED:
            raise UserError(f"{self.checkpoint}: has no {MEANS} (the training emotions' means) for session "
                            f"adaptation; write it with: python -m ser.adapt --config CONFIG")
        return SessionAdapter(mean, scale, self.labels, method, prior, means)

    def predict(self, wav: np.ndarray, sr: int) -> Prediction:
        """The emotion of one waveform (float, any rate, mono or samples x channels)."""
        return self.classify([self.features(wav, sr)])[0]


def standardise(features: list[np.ndarray]) -> list[np.ndarray]:
    """A group of clips (one speaker or setting) standardised by the group's own mean and std."""
    if len(features) < 2:
        raise UserError("batch normalisation needs at least 2 clips from the same speaker or setting")
    stacked = np.concatenate([np.atleast_2d(f) for f in features])
    mean, std = stacked.mean(0), stacked.std(0) + 1e-8
    return [((f - mean) / std).astype(np.float32) for f in features]


def batch_normalise(features: list[np.ndarray], mean: np.ndarray, std: np.ndarray) -> list[np.ndarray]:
    """Standardise a group of clips by its own statistics, then map them onto the training ones."""
    return [(f * std + mean).astype(np.float32) for f in standardise(features)]


def load_recognizer(source: str | os.PathLike = DEFAULT_CONFIG, overrides=()) -> Recognizer:
    """A recognizer from an experiment config (its output.checkpoint) or a checkpoint folder."""
    path = resolve_path(source)
    if path.is_dir():
        return Recognizer(path)
    from ser.config import load_experiment
    cfg = load_experiment(path, overrides)
    if cfg.output.checkpoint is None:
        raise UserError(f"{path}: key 'output.checkpoint' is not set; point it at a trained checkpoint folder")
    rec = Recognizer(resolve_path(cfg.output.checkpoint))
    rec.uncertain_below = cfg.calibration.uncertain_below      # the config's, so --set can change it
    wanted = [fs.spec() for fs in build_feature_sets(cfg.features, cfg.source)]
    if wanted != rec.meta["features"] or cfg.model.name != rec.model.name:
        raise UserError(f"{path}: checkpoint {cfg.output.checkpoint} was trained with "
                        f"{rec.meta['model']['name']} on {_describe(rec.meta['features'])}, but the config asks "
                        f"for {cfg.model.name} on {_describe(wanted)}; retrain with: python train.py --config {source}")
    classes = [canonical_label(c, f"{path}: data.classes") for c in cfg.data.classes or []]
    if classes and rec.labels != classes:
        raise UserError(f"{path}: checkpoint labels {', '.join(rec.labels)} differ from data.classes "
                        f"{', '.join(cfg.data.classes)}; retrain with: python train.py --config {source}")
    return rec


def _describe(specs: list[dict]) -> str:
    return " + ".join(s["name"] + (str(s["params"]) if s["params"] else "") for s in specs)


def file_features(source: str, overrides: tuple, path) -> tuple[np.ndarray | None, str | None]:
    """(features, None) of one audio file for the recognizer of `source`, or (None, why not); a task
    for `core.execute`, so the recognizer loads once per process (per Dask worker)."""
    from core.audio import load_audio
    from core.execute import cached
    rec = cached(("recognizer", source, overrides), lambda: load_recognizer(source, overrides))
    try:
        wav, _ = load_audio(path, sr=SR)
        return rec.features(wav, SR, str(path)), None
    except UserError as e:
        return None, str(e)
