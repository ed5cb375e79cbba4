"""ser.evaluate: speaker-independent splits, metrics and the confusion plot."""
import numpy as np
import pytest

from emovc.core.errors import UserError
from emovc.ser.evaluate import metrics, plot_confusion, splits

LABELS = ["neutral", "happy", "sad"]


def toy(n_speakers=6, per_class=4):
    speakers = np.repeat([f"s{i}" for i in range(n_speakers)], 3 * per_class)
    y = np.tile(np.repeat([0, 1, 2], per_class), n_speakers)
    return speakers, y


def test_group_kfold_keeps_speakers_apart():
    speakers, y = toy()
    folds = splits(speakers, y, LABELS, "group_kfold", folds=3)
    assert len(folds) == 3
    assert sorted(np.concatenate([te for _, te in folds])) == list(range(len(y)))
    for tr, te in folds:
        assert not set(speakers[tr]) & set(speakers[te])


def test_holdout_and_random():
    speakers, y = toy()
    ((tr, te),) = splits(speakers, y, LABELS, "holdout", test_speakers=["s0", "s5"])
    assert set(speakers[te]) == {"s0", "s5"} and "s0" not in set(speakers[tr])
    folds = splits(speakers, y, LABELS, "random", folds=2, seed=0)
    assert any(set(speakers[tr]) & set(speakers[te]) for tr, te in folds)


@pytest.mark.parametrize("kwargs, message", [
    ({"folds": 8}, "only 6 speakers for 8 speaker folds"),
    ({"scheme": "holdout", "test_speakers": ["s9"]}, "unknown: s9"),
])
def test_impossible_splits(kwargs, message):
    speakers, y = toy()
    with pytest.raises(UserError, match=message):
        splits(speakers, y, LABELS, **kwargs)


def test_class_with_too_few_speakers():
    speakers, y = toy()
    y[(y == 2) & (speakers != "s3")] = 0        # only speaker s3 has 'sad' clips
    with pytest.raises(UserError, match="class 'sad' has clips from 1 speaker"):
        splits(speakers, y, LABELS)
    with pytest.raises(UserError, match="have no speaker"):
        splits(np.array([""] * len(y)), y, LABELS)


def test_metrics():
    y_true = np.array([0, 0, 0, 0, 1, 1, 2, 2])
    y_pred = np.array([0, 0, 0, 1, 1, 1, 2, 0])
    m = metrics(y_true, y_pred, LABELS)
    assert m["accuracy"] == pytest.approx(6 / 8)
    assert m["uar"] == pytest.approx((3 / 4 + 1 + 1 / 2) / 3)
    assert m["confusion"] == [[3, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert m["per_class"]["sad"] == {"recall": 0.5, "precision": 1.0, "f1": pytest.approx(2 / 3), "support": 2}
    assert m["macro_f1"] == pytest.approx(np.mean([3 / 4, 4 / 5, 2 / 3]))
    assert m["labels"] == LABELS


def test_confusion_plot(tmp_path):
    path = plot_confusion([[3, 1, 0], [0, 2, 0], [1, 0, 1]], LABELS, tmp_path / "c.png", "toy")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
