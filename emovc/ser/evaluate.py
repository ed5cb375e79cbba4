"""Speaker-independent evaluation: splits by speaker, out-of-fold predictions, metrics, plot."""
from pathlib import Path

import numpy as np

from emovc.core.errors import UserError


def splits(speakers: np.ndarray, y: np.ndarray, labels: list[str], scheme: str = "group_kfold",
           folds: int = 6, test_speakers: list[str] = (), seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, test) index pairs; no speaker is in both parts unless scheme is 'random'."""
    idx = np.arange(len(y))
    if scheme == "random":
        from sklearn.model_selection import StratifiedKFold
        if np.bincount(y).min() < folds:
            raise UserError(f"a class has fewer than {folds} clips; lower eval.folds")
        return list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(idx, y))
    if (speakers == "").any():
        raise UserError(f"{int((speakers == '').sum())} clips have no speaker, so a speaker-independent split "
                        f"is impossible; add a speaker column to the manifest or set eval.scheme=random")
    for k, label in enumerate(labels):
        n = len(set(speakers[y == k]))
        if n < 2:
            raise UserError(f"class {label!r} has clips from {n} speaker(s); a speaker-independent split needs "
                            f"at least 2 (add speakers, drop the class, or set eval.scheme=random)")
    if scheme == "holdout":
        test = np.isin(speakers, list(test_speakers))
        unknown = sorted(set(test_speakers) - set(speakers))
        if unknown or not test.any() or test.all():
            raise UserError(f"eval.test_speakers must name some but not all speakers of the data"
                            f"{'; unknown: ' + ', '.join(unknown) if unknown else ''}")
        return [(idx[~test], idx[test])]
    from sklearn.model_selection import GroupKFold
    n_speakers = len(set(speakers))
    if n_speakers < folds:
        raise UserError(f"only {n_speakers} speakers for {folds} speaker folds; set eval.folds={n_speakers} or lower")
    return list(GroupKFold(folds).split(idx, y, speakers))


def metrics(y_true: np.ndarray, y_pred: np.ndarray, labels: list[str]) -> dict:
    """accuracy, uar (balanced accuracy), macro_f1, per_class (recall, precision, f1, support), confusion."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support
    ks = list(range(len(labels)))
    cm = confusion_matrix(y_true, y_pred, labels=ks)
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=ks, zero_division=0)
    present = support > 0
    return {"accuracy": float(np.mean(y_true == y_pred)), "uar": float(recall[present].mean()),
            "macro_f1": float(f1[present].mean()), "labels": list(labels),
            "per_class": {l: {"recall": float(r), "precision": float(p), "f1": float(f), "support": int(s)}
                          for l, r, p, f, s in zip(labels, recall, precision, f1, support)},
            "confusion": cm.tolist()}


def plot_confusion(confusion: list[list[int]], labels: list[str], path: Path, title: str = "") -> Path:
    """Row-normalised confusion matrix (recall per true class) as a PNG."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    cm = np.asarray(confusion, dtype=float)
    rates = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(1.0 + 0.8 * len(labels), 0.8 + 0.7 * len(labels)))
    ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(j, i, f"{rates[i, j]:.2f}", ha="center", va="center", fontsize=8,
                    color="white" if rates[i, j] > 0.5 else "black")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110, format="png")
    plt.close(fig)
    return path
