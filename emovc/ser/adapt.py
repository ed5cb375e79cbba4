"""Session adaptation: learn one speaker's baseline while a session (a live stream, a recording)
goes on, and classify each window with it.

A `SessionAdapter` sees the session's windows in order. Each window is classified with what was
learnt from the windows before it, then learnt from. Its memory is a few fixed-size arrays,
whatever the session's length; `reset()` forgets the session. Every method starts from the
training distribution with the weight of `prior` pseudo-windows, so early in a session (and with
no data at all) nothing changes. Methods (bench/adapt_bench.py measures them, docs/ser.md):

- `standardise`: the session's running mean and variance of the model's standardised features,
  shrunk towards the training ones (0 and 1); features are standardised by them.
- `mean`: the same for the mean only (an offset).
- `anchored`: the speaker's offset as the mean of each window minus the training mean of the
  emotion the model hears in it (its top emotion), so a session that holds one emotion keeps
  it: only the part of the features that no training emotion explains is taken for the voice.
  Needs the training emotions' means (`class_means`).
- `anchored_soft`: the same against the posterior-weighted mix of the emotions' means.
- `neutral`: the same, learnt only from what the model hears as neutral or calm (weighted by it).
- `prior`: the output side. The session's emotion priors are re-estimated by EM over its last
  `memory` windows' probabilities (Saerens et al. 2002), shrunk towards the training priors (the
  model was trained class-balanced: uniform), and each window's probabilities are reweighted by
  them: a one-emotion session is sharpened, not erased.
"""
from pathlib import Path

import numpy as np

from emovc.core.audio import atomic_path
from emovc.core.errors import UserError

METHODS = ("standardise", "mean", "anchored", "anchored_soft", "neutral", "prior")
ANCHORED = ("anchored", "anchored_soft", "neutral")
CALM = ("neutral", "calm")          # the emotions `neutral` anchors on
EM_STEPS = 20


class SessionAdapter:
    """The state of one session for one recogniser; see the module docstring."""

    def __init__(self, mean: np.ndarray, scale: np.ndarray, labels: list[str], method: str = "anchored",
                 prior: float = 5.0, class_means: np.ndarray | None = None, memory: int = 200):
        """`mean`, `scale`: the model's input statistics (its features are standardised by them);
        `prior`: the training distribution's weight in windows; `class_means`: (labels x features),
        each emotion's mean training features after standardisation (the anchored methods)."""
        if method not in METHODS:
            raise UserError(f"unknown session adaptation {method!r}; choose one of {', '.join(METHODS)}")
        if method in ANCHORED and class_means is None:
            raise UserError(f"session adaptation {method!r} needs the training emotions' mean features")
        if prior <= 0 or memory < 1:
            raise UserError("session adaptation needs prior > 0 windows and memory >= 1")
        self.mean, self.scale = np.asarray(mean, np.float64), np.asarray(scale, np.float64)
        self.labels, self.method, self.prior, self.memory = list(labels), method, float(prior), memory
        self.class_means = None if class_means is None else np.asarray(class_means, np.float64)
        self.anchors = np.array([l in CALM for l in labels]) if method == "neutral" else np.ones(len(labels), bool)
        self.reset()

    def reset(self) -> None:
        """Forget the session."""
        dims, k = len(self.mean), len(self.labels)
        self.seen = 0                                    # windows learnt from
        self.weight = 0.0                                # their total weight (anchored: posterior mass)
        self.sum = np.zeros(dims)                        # weighted sum of standardised features (minus anchors)
        self.squares = np.zeros(dims)                    # sum of their squares (standardise)
        self.recent = np.zeros((self.memory, k))         # the last `memory` windows' probabilities (prior)

    @property
    def learning(self) -> dict:
        """How far the baseline is learnt: windows heard and the number after which the session
        outweighs the training distribution."""
        return {"heard": self.seen, "needed": int(np.ceil(self.prior)), "learnt": self.seen >= self.prior}

    def features(self, x: np.ndarray) -> np.ndarray:
        """One window's features, adapted to the session so far (unchanged for `prior`)."""
        if self.method == "prior" or not self.weight:
            return x
        z = (np.asarray(x, np.float64) - self.mean) / self.scale
        offset = self.sum / (self.prior + self.weight)
        if self.method == "standardise":
            var = (self.prior + self.squares) / (self.prior + self.weight) - offset ** 2
            z = (z - offset) / np.sqrt(np.maximum(var, 1e-6))
        else:
            z = z - offset
        return (z * self.scale + self.mean).astype(np.float32)

    def probabilities(self, p: np.ndarray) -> np.ndarray:
        """One window's probabilities, reweighted by the session's emotion priors (`prior`)."""
        if self.method != "prior" or not self.seen:
            return p
        q = np.asarray(p, np.float64) * self.priors()
        return q / q.sum()

    def priors(self) -> np.ndarray:
        """The session's emotion priors relative to training's (EM over the recent windows)."""
        rows = self.recent[:min(self.seen, self.memory)]
        k, pi = len(self.labels), np.ones(len(self.labels))
        for _ in range(EM_STEPS):
            q = rows * pi
            q /= q.sum(1, keepdims=True)
            pi = (self.prior / k + q.sum(0)) / (self.prior + len(rows)) * k
        return pi

    def learn(self, x: np.ndarray, p: np.ndarray) -> None:
        """Learn from one window: its (unadapted) features and the probabilities the model gave it."""
        z = (np.asarray(x, np.float64) - self.mean) / self.scale
        p = np.asarray(p, np.float64)
        if self.method in ANCHORED:
            w = np.eye(len(p))[np.argmax(p)] if self.method == "anchored" else p * self.anchors
            self.sum += w.sum() * z - w @ self.class_means
            self.weight += w.sum()
        elif self.method != "prior":
            self.sum += z
            self.squares += z ** 2
            self.weight += 1
        self.recent[self.seen % self.memory] = p
        self.seen += 1


MEANS = "adapt.npz"                 # in a checkpoint folder: the training emotions' mean features


def class_means(X: list[np.ndarray], y: np.ndarray, corpora: np.ndarray, mean: np.ndarray, scale: np.ndarray,
                n_classes: int) -> np.ndarray:
    """Each emotion's mean standardised features, every corpus that has it weighing the same
    (as in training); an emotion without clips gets the training mean (0)."""
    Z = (np.stack(X).astype(np.float64) - mean) / scale
    out = np.zeros((n_classes, Z.shape[1]))
    for c in range(n_classes):
        per_corpus = [Z[(y == c) & (corpora == k)].mean(0) for k in np.unique(corpora[y == c])]
        if per_corpus:
            out[c] = np.mean(per_corpus, axis=0)
    return out


def save_class_means(folder, means: np.ndarray) -> None:
    with atomic_path(Path(folder) / MEANS, overwrite=True) as tmp, open(tmp, "wb") as f:
        np.savez(f, class_means=means.astype(np.float32))


def load_class_means(folder, labels: list[str], dims: int) -> np.ndarray | None:
    """The checkpoint's training emotion means, or None when it has none (`python -m emovc.ser.build_adapt`)."""
    path = Path(folder) / MEANS
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            means = z["class_means"]
    except (OSError, ValueError, KeyError) as e:
        raise UserError(f"{path}: damaged ({e}); rebuild it with: python -m emovc.ser.build_adapt --config CONFIG") from None
    if means.shape != (len(labels), dims) or not np.isfinite(means).all():
        raise UserError(f"{path}: does not match the checkpoint; rebuild it with: python -m emovc.ser.build_adapt --config CONFIG")
    return means
