"""Classifiers by name, and checkpoints that execute no code when loaded.

`logreg` is fitted here and saved as plain arrays; the scikit-learn models (`svm`, `mlp`) are
pipelines with a StandardScaler, saved with skops and loaded only if every type in the file is
on an allow-list. Keras 3 models (`cnn1d`, `lstm` on frame sequences, `cnn2d` on log-mel
images) are saved as `.keras` and loaded with `safe_mode=True`. A `meta.json` beside the model
records what it needs (feature sets, labels, model, versions, seed, the model file's sha256)
and is checked at load.
"""
import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, ClassVar, Literal

import numpy as np

from emovc.core.config import Range, from_dict
from emovc.core.errors import UserError
from emovc.core.registry import Registry
from emovc.core.weights import sha256
from emovc.ser.calibrate import Calibration, Novelty

MODELS: Registry = Registry("model")
FORMAT = 1
META = "meta.json"
NOVELTY = "novelty.npz"


def keras():
    """Keras 3, on the JAX backend unless the user chose another with KERAS_BACKEND."""
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras as k
    return k


class Classifier:
    """Base of all models; subclasses are dataclasses whose fields are the hyper-parameters."""
    name: ClassVar[str]
    input_kind: ClassVar[Literal["functionals", "frames"]] = "functionals"
    filename: ClassVar[str]
    weighted: ClassVar[bool] = False        # fit() honours per-sample `weights`

    def fit(self, X: list[np.ndarray], y: np.ndarray, n_classes: int, train, seed: int,
            weights: np.ndarray | None = None, corpora: np.ndarray | None = None,
            speakers: np.ndarray | None = None) -> "Classifier":
        """Fit on clips X with labels y; `corpora` and `speakers` name each clip's source for
        models that use them (logreg's `contrast` and `nuisance`), others ignore them."""
        raise NotImplementedError

    def predict_proba(self, X: list[np.ndarray]) -> np.ndarray:
        raise NotImplementedError

    def state(self) -> dict:
        """Extra JSON-safe values the saved model needs besides its file."""
        return {}

    def input_stats(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-dimension mean and std of the training features (for batch normalisation)."""
        raise NotImplementedError


def register(name: str):
    def add(cls):
        cls.name = name
        return MODELS.register(name)(dataclass(cls))
    return add


def build_model(spec, source: str = "model") -> Classifier:
    """A model from a config spec (object or dict with `name` and `params`), validated."""
    name, params = (spec["name"], spec.get("params")) if isinstance(spec, dict) else (spec.name, spec.params)
    return from_dict(MODELS.get(name), params or {}, source, "model.params.")


# --- scikit-learn --------------------------------------------------------------------------

# Types beyond skops' own trusted defaults that our model files hold; any other is refused.
TRUSTED_TYPES = {
    "sklearn.calibration._CalibratedClassifier", "sklearn.calibration._SigmoidCalibration",
    "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
    "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
}


class SklearnModel(Classifier):
    filename = "model.skops"

    def estimator(self, seed: int, weighted: bool = False):
        raise NotImplementedError

    def fit(self, X, y, n_classes, train, seed, weights=None, corpora=None, speakers=None):
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import StandardScaler
        self.pipeline = Pipeline([("scale", StandardScaler()), ("clf", self.estimator(seed, weights is not None))])
        self.pipeline.fit(np.stack(X), y, **({} if weights is None else {"clf__sample_weight": weights}))
        self.n_classes = n_classes
        return self

    def predict_proba(self, X):
        X = np.stack(X)
        expected = self.pipeline.n_features_in_
        if X.shape[1] != expected:
            raise UserError(f"features have {X.shape[1]} dimensions but the model expects {expected}; "
                            f"the checkpoint does not match its feature sets")
        p = self.pipeline.predict_proba(X)
        full = np.zeros((len(X), self.n_classes), dtype=np.float64)
        full[:, self.pipeline.classes_] = p
        return full

    def state(self):
        return {"n_classes": self.n_classes}

    def input_stats(self):
        scaler = self.pipeline.named_steps["scale"]
        return scaler.mean_, scaler.scale_

    def save(self, path: Path) -> None:
        import skops.io
        skops.io.dump(self.pipeline, path)

    def load(self, path: Path, state: dict) -> None:
        import skops.io
        untrusted = skops.io.get_untrusted_types(file=path)
        refused = sorted(set(untrusted) - TRUSTED_TYPES)
        if refused:
            raise UserError(f"{path}: refusing to load a model holding unexpected types ({', '.join(refused)})")
        self.pipeline = skops.io.load(path, trusted=untrusted)
        self.n_classes = int(state["n_classes"])


@register("logreg")
class LogReg(Classifier):
    """Multinomial logistic regression on standardised features, fitted with L-BFGS (scipy),
    saved as plain arrays (.npz, read with allow_pickle=False) and applied with numpy, so
    loading it runs no code and needs no scikit-learn import (seconds of start-up).

    Two options against learning who speaks instead of how (both off by default):
    `contrast: corpus` scores each training clip only against the labels its own corpus has,
    so a label that only some corpora carry cannot be learnt from corpus identity;
    `nuisance: k` removes the k directions along which speakers' mean features differ most
    (within emotions) before fitting, folded into the weights (nuisance attribute projection)."""
    C: Annotated[float, Range(0, low_open=True)] = 0.1
    max_iter: Annotated[int, Range(1)] = 2000
    tol: Annotated[float, Range(0, low_open=True)] = 1e-4
    class_weight: Literal["balanced"] | None = "balanced"
    contrast: Literal["all", "corpus"] = "all"
    nuisance: Annotated[int, Range(0)] = 0
    filename: ClassVar[str] = "model.npz"
    weighted: ClassVar[bool] = True
    ARRAYS: ClassVar[tuple[str, ...]] = ("mean", "scale", "coef", "intercept", "classes")

    def fit(self, X, y, n_classes, train, seed, weights=None, corpora=None, speakers=None):
        from scipy.optimize import minimize
        X, y = np.asarray(np.stack(X), np.float64), np.asarray(y)
        classes = np.unique(y)
        t = np.searchsorted(classes, y)
        mean, scale = X.mean(0), X.std(0)
        scale[scale == 0] = 1.0
        Z = (X - mean) / scale
        if weights is None:
            counts = np.bincount(t)
            weights = len(t) / (len(classes) * counts[t]) if self.class_weight == "balanced" else np.ones(len(t))
        w = np.asarray(weights, np.float64) / np.sum(weights)
        allowed = np.ones((len(t), len(classes)), dtype=bool)
        if self.contrast == "corpus" and corpora is not None:
            corpora = np.asarray(corpora)
            for c in np.unique(corpora):
                mine = corpora == c
                allowed[mine] = np.isin(classes, y[mine])
        projection = None
        if self.nuisance:
            if speakers is None:
                raise UserError("model.params.nuisance needs the speaker of each clip; set it to 0 for data without speakers")
            projection = _nuisance_directions(Z, t, np.asarray(speakers), self.nuisance)
            Z = Z - (Z @ projection) @ projection.T
        dims, k = Z.shape[1], len(classes)
        onehot = np.eye(k)[t]
        penalty = 1.0 / (self.C * np.sum(weights))

        def loss(theta):
            W, b = theta[:-k].reshape(dims, k), theta[-k:]
            s = np.where(allowed, Z @ W + b, -np.inf)
            s -= s.max(1, keepdims=True)
            p = np.exp(s)
            p /= p.sum(1, keepdims=True)
            value = -np.sum(w * np.log(p[np.arange(len(t)), t] + 1e-300)) + 0.5 * penalty * np.sum(W ** 2)
            g = (p - onehot) * w[:, None]
            return value, np.concatenate([(Z.T @ g + penalty * W).ravel(), g.sum(0)])

        theta = minimize(loss, np.zeros(dims * k + k), jac=True, method="L-BFGS-B",
                         options={"maxiter": self.max_iter, "gtol": self.tol}).x
        W = theta[:-k].reshape(dims, k)
        if projection is not None:
            W = W - projection @ (projection.T @ W)
        self.arrays = {"mean": mean.astype(np.float32), "scale": scale.astype(np.float32),
                       "coef": W.T.astype(np.float32), "intercept": theta[-k:].astype(np.float32), "classes": classes}
        self.n_classes = n_classes
        return self

    def state(self):
        return {"n_classes": self.n_classes}

    def predict_proba(self, X):
        a, X = self.arrays, np.stack(X)
        if X.shape[1] != a["coef"].shape[1]:
            raise UserError(f"features have {X.shape[1]} dimensions but the model expects "
                            f"{a['coef'].shape[1]}; the checkpoint does not match its feature sets")
        z = ((X - a["mean"]) / a["scale"]) @ a["coef"].T + a["intercept"]
        if z.shape[1] == 1:                        # binary, saved by scikit-learn: one row of weights
            z = np.hstack([np.zeros_like(z), z])
        p = np.exp(z - z.max(axis=1, keepdims=True))
        full = np.zeros((len(X), self.n_classes), dtype=np.float64)
        full[:, a["classes"]] = p / p.sum(axis=1, keepdims=True)
        return full

    def input_stats(self):
        return self.arrays["mean"], self.arrays["scale"]

    def save(self, path: Path) -> None:
        with open(path, "wb") as f:
            np.savez(f, **self.arrays)

    def load(self, path: Path, state: dict) -> None:
        with np.load(path, allow_pickle=False) as z:
            self.arrays = {name: z[name] for name in self.ARRAYS}
        self.n_classes = int(state["n_classes"])


def _nuisance_directions(Z: np.ndarray, t: np.ndarray, speakers: np.ndarray, k: int) -> np.ndarray:
    """Orthonormal columns spanning the k main directions of the speakers' mean features,
    each clip first centred on its emotion's mean (so a speaker's mix of emotions does not count)."""
    residual = Z.copy()
    for c in np.unique(t):
        residual[t == c] -= Z[t == c].mean(0)
    means = np.stack([residual[speakers == s].mean(0) for s in np.unique(speakers)])
    _, _, vt = np.linalg.svd(means - means.mean(0), full_matrices=False)
    return vt[:k].T


@register("svm")
class SVM(SklearnModel):
    """Support-vector machine (RBF kernel by default) with sigmoid-calibrated probabilities."""
    C: Annotated[float, Range(0, low_open=True)] = 10.0
    kernel: Literal["rbf", "linear", "poly"] = "rbf"
    gamma: Literal["scale", "auto"] | float = "scale"
    class_weight: Literal["balanced"] | None = "balanced"
    weighted: ClassVar[bool] = True

    def estimator(self, seed, weighted=False):
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.svm import SVC
        svc = SVC(C=self.C, kernel=self.kernel, gamma=self.gamma, random_state=seed,
                  class_weight=None if weighted else self.class_weight)
        return CalibratedClassifierCV(svc, method="sigmoid", ensemble=False)


@register("mlp")
class MLP(SklearnModel):
    """Multi-layer perceptron with early stopping."""
    hidden: list[Annotated[int, Range(1)]] = field(default_factory=lambda: [256])
    alpha: Annotated[float, Range(0)] = 1e-2
    max_iter: Annotated[int, Range(1)] = 500

    def estimator(self, seed, weighted=False):
        from sklearn.neural_network import MLPClassifier
        return MLPClassifier(hidden_layer_sizes=tuple(self.hidden), alpha=self.alpha, max_iter=self.max_iter,
                             early_stopping=True, random_state=seed)


# --- Keras ---------------------------------------------------------------------------------

@dataclass
class KerasModel(Classifier):
    """A Keras network on frame sequences, standardised per dimension and zero-padded (masked)."""
    input_kind = "frames"
    filename = "model.keras"
    max_frames: Annotated[int, Range(1)] = 400

    def network(self, dims: int, n_classes: int):
        raise NotImplementedError

    def _batch(self, X) -> np.ndarray:
        out = np.zeros((len(X), self.max_frames, len(self.mean)), dtype=np.float32)
        for i, x in enumerate(X):
            if x.ndim != 2 or x.shape[1] != len(self.mean):
                raise UserError(f"frame features have shape {x.shape} but the model expects (frames, "
                                f"{len(self.mean)}); the checkpoint does not match its feature set")
            x = (x[:self.max_frames] - self.mean) / self.std
            out[i, :len(x)] = x
        return out

    def fit(self, X, y, n_classes, train, seed, weights=None, corpora=None, speakers=None):
        k = keras()
        k.utils.set_random_seed(seed)
        frames = np.concatenate([x[:self.max_frames] for x in X])
        self.mean, self.std = frames.mean(0), frames.std(0) + 1e-6
        self.net = self.network(frames.shape[1], n_classes)
        self.net.compile(optimizer=k.optimizers.Adam(train.learning_rate),
                         loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        weights = len(y) / (n_classes * np.maximum(np.bincount(y, minlength=n_classes), 1))
        self.train_network(X, y, train, dict(enumerate(weights)), seed)
        return self

    def train_network(self, X, y, train, class_weight: dict, seed: int) -> None:
        self.net.fit(self._batch(X), y, epochs=train.epochs, batch_size=train.batch_size, verbose=0,
                     class_weight=class_weight)

    def predict_proba(self, X):
        return np.asarray(self.net.predict(self._batch(X), verbose=0), dtype=np.float64)

    def state(self):
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}

    def input_stats(self):
        return self.mean, self.std

    def save(self, path: Path) -> None:
        self.net.save(path)

    def load(self, path: Path, state: dict) -> None:
        self.mean = np.asarray(state["mean"], dtype=np.float32)
        self.std = np.asarray(state["std"], dtype=np.float32)
        self.net = keras().saving.load_model(path, safe_mode=True, compile=False)


@register("cnn1d")
class CNN1D(KerasModel):
    """Two 1-D convolution blocks over time, global average pooling, dropout, softmax."""
    filters: list[Annotated[int, Range(1)]] = field(default_factory=lambda: [64, 128])
    kernel_size: Annotated[int, Range(1)] = 5
    dropout: Annotated[float, Range(0, 0.9)] = 0.3

    def network(self, dims, n_classes):
        k = keras()
        inputs = k.Input((self.max_frames, dims))
        x = inputs
        for f in self.filters:
            x = k.layers.Conv1D(f, self.kernel_size, padding="same", activation="relu")(x)
            x = k.layers.BatchNormalization()(x)
            x = k.layers.MaxPooling1D(2)(x)
        x = k.layers.GlobalAveragePooling1D()(x)
        x = k.layers.Dropout(self.dropout)(x)
        return k.Model(inputs, k.layers.Dense(n_classes, activation="softmax")(x))


@register("lstm")
class LSTM(KerasModel):
    """A (bidirectional) LSTM reading the real frames (padding masked), softmax on its last state."""
    units: Annotated[int, Range(1)] = 64
    bidirectional: bool = True
    dropout: Annotated[float, Range(0, 0.9)] = 0.3

    def network(self, dims, n_classes):
        k = keras()
        inputs = k.Input((self.max_frames, dims))
        x = k.layers.Masking(mask_value=0.0)(inputs)
        lstm = k.layers.LSTM(self.units)
        x = (k.layers.Bidirectional(lstm) if self.bidirectional else lstm)(x)
        x = k.layers.Dropout(self.dropout)(x)
        return k.Model(inputs, k.layers.Dense(n_classes, activation="softmax")(x))


@register("cnn2d")
class CNN2D(KerasModel):
    """A 2-D CNN over log-mel images (bands x frames), each band standardised, cropped or
    zero-padded to `max_frames` (centred). While training, every epoch sees each clip at a random
    offset with SpecAugment-style masks: `time_masks` spans of up to `time_mask` frames and
    `freq_masks` of up to `freq_mask` bands set to the mean. A strided stem, then one stage per
    entry of `filters`, each after a 2x2 max pooling, global average pooling, dropout, softmax.
    `block: residual`: each stage a ResNet block (two 3x3 convolutions and a shortcut);
    `dense`: a DenseNet block (`depth` 3x3 convolutions of `filters` channels, each reading all
    earlier maps) and a 1x1 transition."""
    max_frames: Annotated[int, Range(8)] = 200
    block: Literal["residual", "dense"] = "residual"
    filters: list[Annotated[int, Range(1)]] = field(default_factory=lambda: [16, 32, 64])
    depth: Annotated[int, Range(1)] = 3
    dropout: Annotated[float, Range(0, 0.9)] = 0.3
    time_masks: Annotated[int, Range(0)] = 2
    time_mask: Annotated[int, Range(1)] = 20
    freq_masks: Annotated[int, Range(0)] = 2
    freq_mask: Annotated[int, Range(1)] = 8

    def _batch(self, X, rng: np.random.Generator | None = None) -> np.ndarray:
        """(clips, bands, max_frames, 1); with `rng`, random offsets and masks (training)."""
        bands = len(self.mean)
        out = np.zeros((len(X), bands, self.max_frames), dtype=np.float32)
        for i, x in enumerate(X):
            if x.ndim != 2 or x.shape[1] != bands:
                raise UserError(f"log-mel features have shape {x.shape} but the model expects (frames, "
                                f"{bands}); the checkpoint does not match its feature set")
            spare = abs(len(x) - self.max_frames)
            start = int(rng.integers(spare + 1)) if rng is not None else spare // 2
            if len(x) > self.max_frames:
                x = x[start:start + self.max_frames]
                start = 0
            out[i, :, start:start + len(x)] = ((x - self.mean) / self.std).T
            if rng is not None:
                for axis, count, width in ((2, self.time_masks, self.time_mask), (1, self.freq_masks, self.freq_mask)):
                    for _ in range(count):
                        w = int(rng.integers(width + 1))
                        at = int(rng.integers(out.shape[axis] - min(w, out.shape[axis]) + 1))
                        (out[i, :, at:at + w] if axis == 2 else out[i, at:at + w, :])[...] = 0.0
        return out[..., None]

    def train_network(self, X, y, train, class_weight, seed):
        rng = np.random.default_rng(seed)
        for _ in range(train.epochs):          # fresh offsets and masks every epoch
            self.net.fit(self._batch(X, rng), y, epochs=1, batch_size=train.batch_size, verbose=0,
                         class_weight=class_weight)

    def network(self, dims, n_classes):
        k = keras()
        L = k.layers

        def conv(x, f, size=3, strides=1, relu=True):
            x = L.Conv2D(f, size, strides=strides, padding="same", use_bias=False)(x)
            x = L.BatchNormalization()(x)
            return L.ReLU()(x) if relu else x

        inputs = k.Input((dims, self.max_frames, 1))
        x = conv(inputs, self.filters[0], strides=2)
        for f in self.filters:
            x = L.MaxPooling2D(2, padding="same")(x)
            if self.block == "residual":
                shortcut = x if x.shape[-1] == f else conv(x, f, size=1, relu=False)
                x = L.ReLU()(L.Add()([conv(conv(x, f), f, relu=False), shortcut]))
            else:
                for _ in range(self.depth):
                    x = L.Concatenate()([x, conv(x, f)])
                x = conv(x, f, size=1)
        x = L.GlobalAveragePooling2D()(x)
        x = L.Dropout(self.dropout)(x)
        return k.Model(inputs, L.Dense(n_classes, activation="softmax")(x))


# --- checkpoints ---------------------------------------------------------------------------

def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version
    found = {}
    for pkg in ("scikit-learn", "skops", "keras", "numpy"):
        try:
            found[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return found


def save_checkpoint(folder: Path, model: Classifier, features: list[dict], labels: list[str],
                    seed: int, extra: dict | None = None, novelty=None, calibration=None) -> Path:
    """Write the model file and meta.json into `folder` (replacing an older checkpoint there),
    and with a novelty model (`ser.calibrate.Novelty`) its arrays and how the temperature uses it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / model.filename
    model.save(path)
    meta = {"format": FORMAT, "model": {"name": model.name, "params": dataclasses.asdict(model)},
            "features": features, "labels": list(labels), "seed": seed, "state": model.state(),
            "file": model.filename, "sha256": sha256(path), "versions": _versions(), **(extra or {})}
    if novelty is not None:
        novelty.save(folder / NOVELTY)
        meta["novelty"] = {"file": NOVELTY, "sha256": sha256(folder / NOVELTY), "power": calibration.power,
                           "reference": calibration.reference, "low": calibration.low, "high": calibration.high}
    else:
        (folder / NOVELTY).unlink(missing_ok=True)
    (folder / META).write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    for other in {MODELS.get(name).filename for name in MODELS.names()} - {model.filename}:
        (folder / other).unlink(missing_ok=True)       # an older checkpoint's model of another kind
    return folder


def load_checkpoint(folder: Path) -> tuple[Classifier, dict]:
    """The model and its metadata; a missing, tampered or inconsistent checkpoint is a UserError."""
    folder = Path(folder)
    meta_path = folder / META
    if not meta_path.is_file():
        raise UserError(f"{folder}: not a checkpoint (no {META}); train one with: python train.py --config CONFIG")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        model = build_model(meta["model"], str(meta_path))
        labels, features, state = list(meta["labels"]), list(meta["features"]), dict(meta["state"])
        if meta["format"] != FORMAT or meta["file"] != model.filename:
            raise ValueError("unsupported format or model file")
    except (ValueError, KeyError, TypeError) as e:
        raise UserError(f"{meta_path}: damaged checkpoint metadata ({e}); retrain or restore the checkpoint") from None
    path = folder / model.filename
    if not path.is_file():
        raise UserError(f"{folder}: checkpoint lacks {model.filename}")
    if sha256(path) != meta["sha256"]:
        raise UserError(f"{path}: does not match the sha256 in {META}; the checkpoint was modified or "
                        f"mixed with another; retrain or restore it")
    try:
        model.load(path, state)
    except UserError:
        raise
    except Exception as e:
        raise UserError(f"{path}: cannot load the model ({type(e).__name__}: {e})") from None
    outputs = getattr(model, "n_classes", None) or int(model.net.output_shape[-1])
    if outputs != len(labels):
        raise UserError(f"{path}: model has {outputs} outputs but {META} lists {len(labels)} labels")
    return model, meta


def load_calibration(folder: Path, meta: dict):
    """The checkpoint's `ser.calibrate.Calibration` and its novelty model (None if it has none)."""
    temperature, spec = float(meta.get("temperature", 1.0)), meta.get("novelty")
    if spec is None:
        return Calibration(temperature), None
    path = Path(folder) / NOVELTY
    try:
        calibration = Calibration(temperature, float(spec["power"]), float(spec["reference"]),
                                  float(spec["low"]), float(spec["high"]))
        if not path.is_file() or sha256(path) != spec["sha256"]:
            raise ValueError(f"{NOVELTY} is missing or does not match its sha256")
        return calibration, Novelty.load(path)
    except (ValueError, KeyError, TypeError) as e:
        raise UserError(f"{folder}: damaged calibration in the checkpoint ({e}); retrain or restore it") from None
