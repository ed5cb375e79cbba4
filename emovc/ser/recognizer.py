"""The API other stages use: load a trained model once, classify waveforms, or read a recording's
emotion window by window (`Recognizer.recognise`: the one answer to "what emotion is this
recording", used by predict.py, detect.py, timeline.py and the app alike)."""
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

from emovc.core.audio import SR, Reader, Source, resample, window_spans
from emovc.core.config import resolve_path
from emovc.core.errors import AudioError, UserError
from emovc.core.execute import cached
from emovc.core.labels import UNCERTAIN, Prediction  # noqa: F401  (part of this module's API)
from emovc.ser.config import load_experiment
from emovc.ser.adapt import ANCHORED, MEANS, SessionAdapter, load_class_means
from emovc.ser.data import canonical_label
from emovc.ser.features import build_feature_sets, extract_wave
from emovc.ser.models import load_calibration, load_checkpoint

DEFAULT_CONFIG = "configs/multicorpus.yaml"
WINDOW_S, HOP_S = 4.0, 2.0      # a recording's emotion is read in windows of 4 s every 2 s, cut at pauses

ADAPT_METHOD, ADAPT_PRIOR = "anchored", 5.0      # session adaptation: chosen by bench/adapt_bench.py

Span = tuple[float, float]      # (start, end) in seconds


@dataclass
class Recognition:
    """A recording's emotion: each window's span and prediction (None: no speech in it) and the
    whole recording's (the windows' probabilities weighted by the time each window owns; None
    when no window holds speech)."""
    windows: list[tuple[Span, Prediction | None]]
    overall: Prediction | None


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
        if self.per_speaker:
            raise UserError(f"{self.checkpoint}: a per-speaker model classifies batches; it takes no session adapter")
        mean, scale = self.model.input_stats()
        means = load_class_means(self.checkpoint, self.labels, len(mean))
        if means is None and method in ANCHORED:
            raise UserError(f"{self.checkpoint}: has no {MEANS} (the training emotions' means) for session "
                            f"adaptation; write it with: python -m emovc.ser.build_adapt --config CONFIG")
        return SessionAdapter(mean, scale, self.labels, method, prior, means)

    def predict(self, wav: np.ndarray, sr: int) -> Prediction:
        """The emotion of one waveform (float, any rate, mono or samples x channels), as one clip."""
        return self.classify([self.features(wav, sr)])[0]

    def recognise(self, audio: str | os.PathLike | np.ndarray | Reader, window_s: float = WINDOW_S,
                  hop_s: float = HOP_S, normalise_min: int | None = None, adapter=None) -> Recognition:
        """The emotion of a recording (a file, read block by block; a 16 kHz waveform; or a
        `Reader`) in windows of `window_s` every `hop_s`, edges at pauses. With `normalise_min`,
        a recording with at least that many windows of speech has them standardised together;
        with `adapter`, its windows are classified in order as part of that session."""
        reader = audio if isinstance(audio, Reader) else Reader(Source(audio))
        return self.combine(self.window_features(reader, window_spans(reader, window_s, hop_s)), normalise_min,
                            adapter=adapter)

    def window_features(self, reader: Reader, spans: Iterable[tuple[int, int]]) -> list[tuple[Span, np.ndarray | None]]:
        """Each span's (in samples at 16 kHz) features; None where it holds no speech."""
        found = []
        for a, b in spans:
            try:
                features = self.features(reader.audio(a, b), SR)
            except AudioError:
                features = None         # silent, or too short
            found.append(((a / SR, b / SR), features))
        return found

    def combine(self, windows: list[tuple[Span, np.ndarray | None]], normalise_min: int | None = None,
                predictions: list[Prediction] | None = None, adapter=None) -> Recognition:
        """A Recognition from the windows' features (`predictions`: of the speech windows, when
        classified already, e.g. together with other recordings' windows; `adapter`: classified
        in order as part of its session)."""
        speech = [f for _, f in windows if f is not None]
        if predictions is None:
            together = normalise_min is not None and len(speech) >= normalise_min
            predictions = self.classify(speech, normalise=together, adapter=adapter) if speech else []
        found, given = [], iter(predictions)
        for span, f in windows:
            found.append((span, None if f is None else next(given)))
        return Recognition(found, self._overall(found))

    def _overall(self, windows: list[tuple[Span, Prediction | None]]) -> Prediction | None:
        owned = np.diff(owned_edges([span for span, _ in windows])) if windows else []
        speech = [(w, p) for w, (_, p) in zip(owned, windows) if p is not None and w > 0]
        if not speech:
            return None
        total = sum(w for w, _ in speech)
        mean = sum(w / total * np.array([p.probabilities[l] for l in self.labels]) for w, p in speech)
        return Prediction.of(self.labels, mean, self.uncertain_below)


def owned_edges(spans: list[Span]) -> np.ndarray:
    """Edges splitting consecutive (possibly overlapping) spans' time into one part per span, at
    the midpoints between their centres, so each second counts once."""
    starts, ends = np.array(spans, dtype=float).reshape(-1, 2).T
    centres = (starts + ends) / 2
    return np.concatenate([[starts[0]], (centres[1:] + centres[:-1]) / 2, [ends[-1]]])


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


def file_windows(source: str, overrides: tuple, path) -> tuple[list | None, str | None]:
    """(each window's span and features, as `Recognizer.window_features`, None) of one audio file
    for the recognizer of `source` in the default windows, or (None, why not); a task for
    `core.execute`, so the recognizer loads once per process (per Dask worker)."""
    rec = cached(("recognizer", source, overrides), lambda: load_recognizer(source, overrides))
    try:
        reader = Reader(Source(path))
        return rec.window_features(reader, window_spans(reader, WINDOW_S, HOP_S)), None
    except UserError as e:
        return None, str(e)


def recognise_files(source: str, overrides: tuple, files: list, executor,
                    normalise: str = "none") -> tuple[list[tuple[Path, Recognition]], list[str]]:
    """([(file, its Recognition)], [why each other file could not be used]) for the recognizer of
    `source`, in the default windows, the features computed on `executor` (core.execute: this
    machine or a Dask cluster). `normalise`: 'batch' standardises all the files' speech windows
    together first (one speaker's or one recording setup's clips from another corpus); 'adapt'
    classifies them in order as one session that learns the speaker (ser/adapt.py)."""
    from functools import partial
    rec = cached(("recognizer", source, overrides), lambda: load_recognizer(source, overrides))
    results = executor.map(partial(file_windows, source, overrides), files,
                           threaded=not all(fs.parallel for fs in rec.feature_sets))
    found, skipped = [], []
    for path, (windows, error) in zip(files, results):
        if error is not None:
            skipped.append(error)
        elif all(f is None for _, f in windows):
            skipped.append(f"{path}: no speech found (silent or too quiet)")
        else:
            found.append((Path(path), windows))
    if normalise == "none":
        return [(path, rec.combine(windows)) for path, windows in found], skipped
    speech = [f for _, windows in found for _, f in windows if f is not None]
    given = iter(rec.classify(speech, normalise=normalise == "batch",
                              adapter=rec.session_adapter() if normalise == "adapt" else None))
    return [(path, rec.combine(windows, predictions=[next(given) for _, f in windows if f is not None]))
            for path, windows in found], skipped
