"""Calibrated confidence: temperature scaling fitted on held-out predictions, and its error.

A model's probabilities p become softmax(log p / T); T > 1 softens over-confident models. T is
fitted by minimising the negative log-likelihood of out-of-fold predictions (speakers the model
did not see), the usual post-hoc calibration for neural and linear classifiers.
"""
import numpy as np


def scale(probs: np.ndarray, temperature: float) -> np.ndarray:
    """Probabilities (rows) sharpened (T < 1) or softened (T > 1) by temperature T."""
    logp = np.log(np.clip(np.asarray(probs, dtype=np.float64), 1e-12, 1.0)) / temperature
    p = np.exp(logp - logp.max(axis=-1, keepdims=True))
    return p / p.sum(axis=-1, keepdims=True)


def fit_temperature(probs: np.ndarray, y: np.ndarray) -> float:
    """The temperature that minimises the negative log-likelihood of true labels `y`."""
    from scipy.optimize import minimize_scalar
    y = np.asarray(y)

    def nll(log_t):
        return -np.mean(np.log(np.clip(scale(probs, np.exp(log_t))[np.arange(len(y)), y], 1e-12, None)))

    return float(np.exp(minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded").x))


def expected_calibration_error(probs: np.ndarray, y: np.ndarray, bins: int = 15) -> float:
    """ECE: the mean gap between confidence and accuracy over equal-width confidence bins,
    weighted by how many predictions fall in each bin."""
    probs, y = np.asarray(probs), np.asarray(y)
    confidence, correct = probs.max(axis=1), probs.argmax(axis=1) == y
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    gaps = [abs(correct[which == b].mean() - confidence[which == b].mean()) * np.sum(which == b)
            for b in range(bins) if np.any(which == b)]
    return float(np.sum(gaps) / len(y))
