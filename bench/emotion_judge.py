"""An emotion judge independent of the project's recogniser, for scoring synthetic speech.

ComParE_2016 functionals (openSMILE, 6373 features; the shipped recogniser uses Whisper and
eGeMAPS, not these) and an RBF-SVM trained on all of RAVDESS (8 emotions, 24 actors). Two
variants: `speaker` standardises each actor's clips by that actor's statistics (and is applied
to one voice's renderings standardised together), `global` standardises over the corpus (and
is applied to each file alone). Nothing is trained on the project's own TTS output.

    nice python bench/emotion_judge.py      # speaker-independent 6-fold UAR + confusion of both variants

The RAVDESS features are cached in cache/features/ (first run: about 10 minutes on 2 cores).
"""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.config import ROOT  # noqa: E402
from core.labels import EMOTIONS  # noqa: E402

RAVDESS = ROOT.parent / "shared" / "data" / "ravdess"
C = 10.0


def compare_features(wavs16: list[np.ndarray]) -> np.ndarray:
    from ser.features import FEATURES, extract_wave
    fs = FEATURES.get("compare")()
    return np.stack([extract_wave([fs], w) for w in wavs16])


def ravdess() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ComParE features, emotion labels, actor ids) of every RAVDESS clip."""
    import csv
    from ser.features import FEATURES, extract_files
    with (RAVDESS / "manifest.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    feats, failures = extract_files([FEATURES.get("compare")()], [RAVDESS / r["path"] for r in rows])
    keep = [i for i, x in enumerate(feats) if x is not None]
    return (np.stack([feats[i] for i in keep]), np.array([rows[i]["emotion"] for i in keep]),
            np.array([rows[i]["speaker"] for i in keep]))


def standardise(x: np.ndarray, groups: np.ndarray | None = None) -> np.ndarray:
    """z-scores over all rows, or within each group (speaker / voice) when `groups` is given."""
    groups = np.zeros(len(x)) if groups is None else np.asarray(groups)
    out = np.empty_like(x, dtype=np.float64)
    for g in np.unique(groups):
        rows = groups == g
        out[rows] = (x[rows] - x[rows].mean(0)) / (x[rows].std(0) + 1e-8)
    return out


class Judge:
    """`speaker`: fit on per-actor z-scores, `classify` a group of clips of one voice standardised
    together. `global`: fit on corpus z-scores, classify files one by one with the corpus scaler."""

    def __init__(self, x: np.ndarray, y: np.ndarray, speakers: np.ndarray, mode: str):
        from sklearn.svm import SVC
        self.mode = mode
        self.mean, self.std = x.mean(0), x.std(0) + 1e-8
        z = standardise(x, speakers) if mode == "speaker" else (x - self.mean) / self.std
        self.model = SVC(kernel="rbf", C=C, gamma="scale", decision_function_shape="ovr").fit(z, y)
        self.classes = list(self.model.classes_)

    def scores(self, x: np.ndarray) -> np.ndarray:
        """One row of per-emotion decision scores per clip (columns: `self.classes`)."""
        z = standardise(x) if self.mode == "speaker" else (x - self.mean) / self.std
        return self.model.decision_function(z)

    def classify(self, x: np.ndarray) -> list[str]:
        return [self.classes[i] for i in self.scores(x).argmax(1)]


def cross_validate(x, y, speakers, mode: str, folds: int = 6) -> tuple[float, np.ndarray]:
    """Speaker-independent UAR and confusion matrix (rows: true, columns: predicted, EMOTIONS order)."""
    from sklearn.model_selection import GroupKFold
    predicted = np.empty(len(y), dtype=object)
    for train, test in GroupKFold(folds).split(x, y, speakers):
        judge = Judge(x[train], y[train], speakers[train], mode)
        if mode == "speaker":
            for s in np.unique(speakers[test]):
                rows = test[speakers[test] == s]
                predicted[rows] = judge.classify(x[rows])
        else:
            predicted[test] = judge.classify(x[test])
    matrix = np.array([[np.sum((y == t) & (predicted == p)) for p in EMOTIONS] for t in EMOTIONS])
    return float(np.mean(np.diag(matrix) / matrix.sum(1))), matrix


def format_confusion(matrix: np.ndarray, rows: list[str] = EMOTIONS) -> str:
    lines = ["requested \\ judged " + " ".join(f"{e[:5]:>5}" for e in EMOTIONS)]
    lines += [f"{r:>18} " + " ".join(f"{v:5d}" for v in row) for r, row in zip(rows, matrix)]
    return "\n".join(lines)


def main() -> None:
    x, y, speakers = ravdess()
    print(f"RAVDESS: {len(y)} clips, {len(set(speakers))} actors, ComParE_2016 {x.shape[1]} features, RBF-SVM C={C:g}")
    for mode in ("speaker", "global"):
        uar, matrix = cross_validate(x, y, speakers, mode)
        print(f"\n{mode}-standardised, speaker-independent 6-fold: UAR {uar:.3f}\n"
              + format_confusion(matrix).replace("requested", "true"))


if __name__ == "__main__":
    main()
