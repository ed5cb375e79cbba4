"""ser.models on tiny synthetic data: learning, save/load round trips, refusing tampered checkpoints."""
import hashlib
import json

import numpy as np
import pytest

from emovc.core.errors import UserError
from emovc.ser.config import Train
from emovc.ser.models import MODELS, build_model, load_checkpoint, save_checkpoint

LABELS = ["neutral", "happy", "sad"]
FEATURES = [{"name": "egemaps", "params": {}}]


def blobs(n=150, dims=8, seed=0):
    """Three well separated Gaussian classes."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    return list(rng.normal(0, 1, (n, dims)) + 4 * np.eye(3, dims)[y]), y


def sequences(n=48, dims=6, seed=0):
    """Three classes of variable-length frame sequences that differ in their mean."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    return [rng.normal(0, 1, (rng.integers(20, 40), dims)) + 2 * np.eye(3, dims)[k] for k in y], y


@pytest.mark.parametrize("name", ["logreg", "svm", "mlp"])
def test_sklearn_models_learn_and_round_trip(name, tmp_path):
    X, y = blobs()
    model = build_model({"name": name}).fit(X, y, 3, Train(), seed=0)
    Xt, yt = blobs(seed=1)
    probs = model.predict_proba(Xt)
    assert probs.shape == (150, 3) and np.allclose(probs.sum(1), 1)
    assert np.mean(probs.argmax(1) == yt) > 0.9
    save_checkpoint(tmp_path, model, FEATURES, LABELS, seed=0)
    loaded, meta = load_checkpoint(tmp_path)
    assert meta["labels"] == LABELS and meta["model"]["name"] == name
    assert np.allclose(loaded.predict_proba(Xt), probs)


@pytest.mark.parametrize("name", ["cnn1d", "lstm"])
def test_keras_models_learn_and_round_trip(name, tmp_path):
    X, y = sequences()
    small = {"cnn1d": {"filters": [16]}, "lstm": {"units": 16}}[name]
    model = build_model({"name": name, "params": {"max_frames": 40, **small}})
    model.fit(X, y, 3, Train(epochs=10, batch_size=16, learning_rate=3e-3), seed=0)
    Xt, yt = sequences(seed=1)
    probs = model.predict_proba(Xt)
    assert np.mean(probs.argmax(1) == yt) > 0.8
    save_checkpoint(tmp_path, model, [{"name": "logmel", "params": {}}], LABELS, seed=0)
    loaded, _ = load_checkpoint(tmp_path)
    assert np.allclose(loaded.predict_proba(Xt), probs, atol=1e-5)
    assert (tmp_path / "model.keras").is_file()
    if name == "lstm":      # it reads the real frames only: more zero padding changes nothing
        longer = build_model({"name": name, "params": {"max_frames": 120, **small}})
        longer.mean, longer.std = model.mean, model.std
        longer.net = longer.network(len(model.mean), 3)
        longer.net.set_weights(model.net.get_weights())
        assert np.allclose(longer.predict_proba(Xt), probs, atol=1e-5)


def images(n=48, bands=16, seed=0):
    """Three classes of variable-length log-mel-like images: energy in low, middle or high bands."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    X = []
    for k in y:
        x = rng.normal(0, 1, (rng.integers(20, 60), bands))
        x[:, k * bands // 3:(k + 1) * bands // 3] += 2.0
        X.append(x.astype(np.float32))
    return X, y


@pytest.mark.parametrize("block", ["residual", "dense"])
def test_cnn2d_learns_and_round_trips(block, tmp_path):
    X, y = images()
    model = build_model({"name": "cnn2d", "params": {"max_frames": 40, "block": block, "filters": [8, 8],
                                                     "depth": 2, "freq_mask": 2, "time_mask": 5}})
    model.fit(X, y, 3, Train(epochs=12, batch_size=16, learning_rate=3e-3), seed=0)
    Xt, yt = images(seed=1)
    probs = model.predict_proba(Xt)
    assert probs.shape == (48, 3) and np.mean(probs.argmax(1) == yt) > 0.8
    save_checkpoint(tmp_path, model, [{"name": "logmel", "params": {"n_mels": 16}}], LABELS, seed=0)
    loaded, meta = load_checkpoint(tmp_path)
    assert meta["model"]["params"]["block"] == block
    assert np.allclose(loaded.predict_proba(Xt), probs, atol=1e-5)
    with pytest.raises(UserError, match=r"expects \(frames, 16\)"):
        loaded.predict_proba([np.zeros((30, 12), np.float32)])


def test_cnn2d_images_are_cropped_padded_and_masked_only_in_training():
    model = build_model({"name": "cnn2d", "params": {"max_frames": 10, "time_masks": 1, "time_mask": 4,
                                                     "freq_masks": 1, "freq_mask": 2}})
    model.mean, model.std = np.zeros(4, np.float32), np.ones(4, np.float32)
    long, short = np.arange(14 * 4, dtype=np.float32).reshape(14, 4) + 1, np.ones((4, 4), np.float32)
    image = model._batch([long, short])[..., 0]
    assert image.shape == (2, 4, 10)
    assert np.array_equal(image[0], long[2:12].T)                  # centred crop
    assert np.array_equal(image[1, :, 3:7], short.T) and image[1].sum() == 16    # centred, zero-padded
    rng = np.random.default_rng(0)
    seen = [model._batch([long], rng)[0, ..., 0] for _ in range(20)]
    assert len({float(x[0, 0]) for x in seen if x[0, 0]}) > 1          # random offsets
    assert any((x == 0).all(axis=0).any() for x in seen)                # a masked span of frames
    assert any((x == 0).all(axis=1).any() for x in seen)                # a masked band
    assert np.array_equal(model._batch([long])[0, ..., 0], image[0])   # prediction stays deterministic


@pytest.fixture
def checkpoint(tmp_path):
    X, y = blobs()
    save_checkpoint(tmp_path, build_model({"name": "logreg"}).fit(X, y, 3, Train(), 0), FEATURES, LABELS, 0)
    return tmp_path


def test_logreg_matches_scikit_learn_and_loads_without_it(tmp_path):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler
    X, y = blobs()
    model = build_model({"name": "logreg", "params": {"tol": 1e-9}}).fit(X, y, 3, Train(), 0)
    Z = StandardScaler().fit_transform(np.stack(X))
    reference = LogisticRegression(C=0.1, tol=1e-10, max_iter=10000, class_weight="balanced").fit(Z, y)
    assert np.allclose(model.predict_proba(X), reference.predict_proba(Z), atol=1e-4)
    save_checkpoint(tmp_path, model, FEATURES, LABELS, 0)
    loaded, _ = load_checkpoint(tmp_path)
    assert (tmp_path / "model.npz").is_file()
    assert np.allclose(loaded.predict_proba(X), model.predict_proba(X))


def test_logreg_contrast_by_corpus_does_not_learn_a_label_from_corpus_identity():
    """Label 2 exists only in corpus B; dim 0 says which corpus a clip is from. Contrasted
    with all labels, the model learns 'corpus A, so not 2'; contrasted within each corpus it
    cannot, and a corpus-A clip that sounds like 2 is heard as 2."""
    rng = np.random.default_rng(0)
    corpora = np.repeat(["A", "B"], 150)
    y = np.concatenate([np.arange(150) % 2, np.arange(150) % 3])
    X = rng.normal(0, 1, (300, 4)) + 3 * np.eye(3, 4, 1)[y]
    X[:, 0] = (corpora == "B") * 4.0
    probe = [np.array([0.0, 0, 0, 1.5])]                      # corpus A, sounds like label 2
    p = {c: build_model({"name": "logreg", "params": {"contrast": c}}).fit(
        list(X), y, 3, Train(), 0, corpora=corpora).predict_proba(probe)[0, 2] for c in ("all", "corpus")}
    assert p["corpus"] > 0.5 > p["all"]


def test_logreg_nuisance_generalises_past_a_speaker_confound():
    """Training speakers differ along dim 4 and each speaks mostly one emotion; new speakers
    do not. Removing the speakers' main direction keeps the model on the emotion's own cue."""
    rng = np.random.default_rng(0)

    def speakers(n, confounded):
        X, y, who = [], [], []
        for s in range(n):
            labels = np.where(rng.random(30) < 0.8, s % 3, rng.integers(0, 3, 30)) if confounded else rng.integers(0, 3, 30)
            x = rng.normal(0, 1, (30, 5)) + np.eye(3, 5)[labels]
            x[:, 4] += 3.0 * (s % 3 if confounded else rng.integers(0, 3))
            X.append(x), y.append(labels), who.append(np.full(30, s))
        return np.concatenate(X), np.concatenate(y), np.concatenate(who)
    X, y, who = speakers(12, True)
    Xt, yt, _ = speakers(6, False)
    accuracy = {k: np.mean(build_model({"name": "logreg", "params": {"nuisance": k}}).fit(
        list(X), y, 3, Train(), 0, speakers=who).predict_proba(list(Xt)).argmax(1) == yt) for k in (0, 1)}
    assert accuracy[1] > accuracy[0] + 0.04
    with pytest.raises(UserError, match="nuisance needs the speaker"):
        build_model({"name": "logreg", "params": {"nuisance": 1}}).fit(list(X), y, 3, Train(), 0)


def test_a_new_checkpoint_removes_the_older_model_of_another_kind(checkpoint):
    X, y = blobs()
    save_checkpoint(checkpoint, build_model({"name": "svm"}).fit(X, y, 3, Train(), 0), FEATURES, LABELS, 0)
    assert sorted(p.name for p in checkpoint.iterdir()) == ["meta.json", "model.skops"]
    assert load_checkpoint(checkpoint)[1]["model"]["name"] == "svm"


def test_tampered_model_file_is_refused(checkpoint):
    path = checkpoint / "model.npz"
    data = bytearray(path.read_bytes())
    data[-100] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(UserError, match="does not match the sha256"):
        load_checkpoint(checkpoint)


def test_inconsistent_metadata_is_refused(checkpoint):
    meta_path = checkpoint / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta_path.write_text(json.dumps(meta | {"labels": LABELS + ["angry"]}))
    with pytest.raises(UserError, match="3 outputs but meta.json lists 4 labels"):
        load_checkpoint(checkpoint)
    meta_path.write_text("{not json")
    with pytest.raises(UserError, match="damaged checkpoint metadata"):
        load_checkpoint(checkpoint)
    meta_path.unlink()
    with pytest.raises(UserError, match="not a checkpoint"):
        load_checkpoint(checkpoint)


def test_unexpected_types_in_skops_file_are_refused(tmp_path):
    """A file holding types off the allow-list is refused before anything is loaded."""
    import skops.io
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer
    X, y = blobs()
    model = build_model({"name": "svm"}).fit(X, y, 3, Train(), 0)
    save_checkpoint(tmp_path, model, FEATURES, LABELS, 0)
    skops.io.dump(Pipeline([("f", FunctionTransformer(eval))]), tmp_path / "model.skops")
    meta = json.loads((tmp_path / "meta.json").read_text())
    meta["sha256"] = hashlib.sha256((tmp_path / "model.skops").read_bytes()).hexdigest()
    (tmp_path / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(UserError, match="refusing to load a model holding unexpected types"):
        load_checkpoint(tmp_path)


def test_registry_lists_models():
    assert MODELS.names() == ["cnn1d", "cnn2d", "logreg", "lstm", "mlp", "svm"]
    with pytest.raises(UserError, match="unknown model 'xgboost'; choose one of"):
        build_model({"name": "xgboost"})
