"""Calibrated confidence: temperature scaling fitted on held-out predictions, and its error.

A model's probabilities p become softmax(log p / T); T > 1 softens over-confident models. T is
fitted by minimising the negative log-likelihood of out-of-fold predictions (speakers, or whole
corpora, the model did not see), the usual post-hoc calibration for neural and linear
classifiers. Optionally T grows with the clip's novelty d (how unlike the training clips it is):
T(x) = T0 * (d(x) / d_ref)^power, so speech from an unseen corpus or microphone gets softer
probabilities than speech like the training data.
"""
from dataclasses import dataclass

import numpy as np


def scale(probs: np.ndarray, temperature) -> np.ndarray:
    """Probabilities (rows) sharpened (T < 1) or softened (T > 1) by temperature T (a number, or one per row)."""
    t = np.reshape(np.asarray(temperature, dtype=np.float64), (-1, 1))
    logp = np.log(np.clip(np.asarray(probs, dtype=np.float64), 1e-12, 1.0)) / t
    p = np.exp(logp - logp.max(axis=-1, keepdims=True))
    return p / p.sum(axis=-1, keepdims=True)


@dataclass(frozen=True)
class Calibration:
    """T(x) = temperature * (d(x) / reference)^power, d clipped to the range seen while fitting."""
    temperature: float = 1.0
    power: float = 0.0
    reference: float = 1.0
    low: float = 0.0
    high: float = float("inf")

    def temperatures(self, novelty: np.ndarray | None, n: int) -> np.ndarray:
        if novelty is None or self.power == 0:
            return np.full(n, self.temperature)
        d = np.clip(np.asarray(novelty, dtype=np.float64), self.low, self.high)
        return self.temperature * (d / self.reference) ** self.power

    def apply(self, probs: np.ndarray, novelty: np.ndarray | None = None) -> np.ndarray:
        return scale(probs, self.temperatures(novelty, len(probs)))


def fit_calibration(pools: list[tuple[np.ndarray, np.ndarray, np.ndarray | None]],
                    novelty: bool = False) -> Calibration:
    """The calibration that minimises the negative log-likelihood of the true labels, averaged
    over pools (probabilities, labels, novelty) so that each pool (a corpus's held-out speakers,
    a left-out corpus) counts the same; with `novelty`, T also depends on each clip's novelty."""
    from scipy.optimize import minimize
    logs = [(np.log(np.clip(np.asarray(p, dtype=np.float64), 1e-12, 1.0)), np.asarray(y)) for p, y, _ in pools]
    if novelty:
        d = np.concatenate([np.asarray(n, dtype=np.float64) for _, _, n in pools])
        shape = dict(reference=float(np.median(d)), low=float(d.min()), high=float(d.max()))
    else:
        shape = {}

    def build(theta):
        return Calibration(float(np.exp(theta[0])), float(theta[1]) if novelty else 0.0, **shape)

    def nll(theta):
        cal, total = build(theta), 0.0
        for (logp, y), (_, _, n) in zip(logs, pools):
            s = logp / cal.temperatures(n, len(y))[:, None]
            s = s - s.max(1, keepdims=True)
            total -= np.mean(s[np.arange(len(y)), y] - np.log(np.exp(s).sum(1)))
        return total / len(pools)

    theta = minimize(nll, np.zeros(2 if novelty else 1), method="Nelder-Mead",
                     options={"xatol": 1e-4, "fatol": 1e-7}).x
    return build(theta)


class Novelty:
    """How unlike the training clips a clip is: the mean squared distance to its `neighbours`
    nearest training clips in the `dims` main directions of the standardised training features
    (a k-nearest-neighbour novelty score). Plain arrays, saved as .npz and read without pickle."""
    ARRAYS = ("mean", "scale", "basis", "points", "neighbours")

    def __init__(self, arrays: dict[str, np.ndarray]):
        self.arrays = arrays

    @classmethod
    def fit(cls, X: list[np.ndarray], dims: int = 50, neighbours: int = 10) -> "Novelty":
        X = np.asarray(np.stack(X), dtype=np.float64)
        mean, std = X.mean(0), X.std(0)
        std[std == 0] = 1.0
        Z = (X - mean) / std
        basis = np.linalg.svd(Z - Z.mean(0), full_matrices=False)[2][:dims].T
        return cls({"mean": mean.astype(np.float32), "scale": std.astype(np.float32),
                    "basis": basis.astype(np.float32), "points": (Z @ basis).astype(np.float32),
                    "neighbours": np.array(min(neighbours, len(X)))})

    def score(self, X: list[np.ndarray]) -> np.ndarray:
        a = self.arrays
        p = (((np.stack(X) - a["mean"]) / a["scale"]) @ a["basis"]).astype(np.float64)
        points = a["points"].astype(np.float64)
        d = (p ** 2).sum(1)[:, None] + (points ** 2).sum(1)[None] - 2 * p @ points.T
        return np.sort(np.maximum(d, 0), axis=1)[:, :int(a["neighbours"])].mean(1)

    def save(self, path) -> None:
        with open(path, "wb") as f:
            np.savez(f, **self.arrays)

    @classmethod
    def load(cls, path) -> "Novelty":
        with np.load(path, allow_pickle=False) as z:
            return cls({name: z[name] for name in cls.ARRAYS})


def expected_calibration_error(probs: np.ndarray, y: np.ndarray, bins: int = 15) -> float:
    """ECE: the mean gap between confidence and accuracy over equal-width confidence bins,
    weighted by how many predictions fall in each bin."""
    probs, y = np.asarray(probs), np.asarray(y)
    confidence, correct = probs.max(axis=1), probs.argmax(axis=1) == y
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    gaps = [abs(correct[which == b].mean() - confidence[which == b].mean()) * np.sum(which == b)
            for b in range(bins) if np.any(which == b)]
    return float(np.sum(gaps) / len(y))
