"""The emotion model: how a speaker's prosody changes from neutral to an emotion, learned from
real parallel takes (the same speaker saying the same words neutrally and with the emotion).

For every 10-ms frame of a neutral utterance it predicts, from the frame's neighbourhood (pitch,
voicing, energy, place in the phrase; tts/contours.py), the emotion and its intensity:

    pitch    semitones added to F0            energy   dB added to the frame
    stretch  log of the local duration factor band0..4  dB added to each band's share (voice quality)

It is a small MLP (tanh), trained with a masked squared error on the targets `tts.contours.targets`
reads off DTW-aligned takes; no recogniser is involved anywhere. Weights are plain arrays (.npz read
with allow_pickle=False) beside a model.json with the sha256, the inputs and the measured scores.

    python -m emovc.tts.train_emotion --config configs/prosody.yaml   # train, evaluate on held-out speakers, save
"""
import csv
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

import numpy as np

from emovc.core.audio import atomic_path, load_audio
from emovc.core.config import ExistingPath, Range
from emovc.core.errors import UserError
from emovc.core.labels import EMOTIONS
from emovc.core.paths import CACHE, ROOT
from emovc.core.weights import load_verified_arrays, sha256
from emovc.tts.contours import (
    ANALYSIS_SR,
    FRAME_INPUTS,
    HOP,
    OUTPUTS,
    VOICED_HZ,
    Contours,
    align,
    analyse,
    centre_stretch,
    mfcc,
    model_inputs,
    semitones,
    speech_span,
    targets,
)
from emovc.tts.profiles import profile

CHECKPOINT = ROOT / "checkpoints" / "prosody"
TARGET_EMOTIONS = [e for e in EMOTIONS if e != "neutral"]
INTENSITY = {"normal": 0.5, "strong": 1.0, "": 0.5}    # ESD has no intensity level: its takes count as normal
SMOOTH_FRAMES = 5                                      # predictions are averaged over 50 ms


@dataclass
class Data:
    sources: list[ExistingPath]                         # corpora with a manifest.csv (path, speaker, emotion, intensity, text)
    hold_out: list[str] = field(default_factory=list)   # speakers never seen (for held-out checks of a shipped model)
    frame_step: Annotated[int, Range(1, 20)] = 2        # every n-th frame of an utterance is a training row


@dataclass
class Net:
    hidden: list[int] = field(default_factory=lambda: [128, 128])
    # pitch and energy: `learned` frame by frame, or `neutral`: the utterance's own contour shape moved
    # by the model's mean change there (timing and voice quality stay frame by frame either way)
    shape: Literal["learned", "neutral"] = "learned"


@dataclass
class Train:
    epochs: Annotated[int, Range(1, 500)] = 30
    batch: Annotated[int, Range(16, 65536)] = 512
    lr: Annotated[float, Range(0, 1, low_open=True)] = 1e-3
    l2: Annotated[float, Range(0, 1)] = 1e-5


@dataclass
class Eval:
    folds: Annotated[int, Range(0, 24)] = 4             # grouped by speaker; 0 skips the evaluation
    corpus: str = "ravdess"                              # the multi-speaker corpus whose speakers are held out


@dataclass
class Output:
    checkpoint: Path = Path("checkpoints/prosody")
    results: Path = Path("results")


@dataclass
class ProsodyExperiment:
    name: str
    data: Data
    seed: int = 0
    net: Net = field(default_factory=Net)
    train: Train = field(default_factory=Train)
    eval: Eval = field(default_factory=Eval)
    output: Output = field(default_factory=Output)


# ---- data: parallel pairs -> rows --------------------------------------------------------------

def _rows(manifest: Path) -> list[dict]:
    with manifest.open(newline="", encoding="utf-8") as f:
        return [{**r, "path": str(manifest.parent / r["path"])} for r in csv.DictReader(f)]


def pairs(sources: list[Path], hold_out: list[str] = ()) -> list[tuple[dict, dict]]:
    """(neutral row, emotional row) for every emotional take that has a neutral take of the same
    words by the same speaker; each of those neutral takes pairs with it."""
    groups = defaultdict(lambda: ([], []))
    for source in sources:
        for r in _rows(Path(source) / "manifest.csv"):
            if r["speaker"] in hold_out or r["emotion"] not in EMOTIONS:
                continue
            text = " ".join(r["text"].lower().split()).strip(" .!?")
            groups[(r["speaker"], text)][r["emotion"] != "neutral"].append(r)
    return [(n, e) for neutral, emotional in groups.values() for e in emotional for n in neutral]


def analyse_file(path: str) -> tuple[Contours, np.ndarray]:
    wav, _ = load_audio(path, sr=ANALYSIS_SR)
    c = analyse(wav, ANALYSIS_SR)
    return c, mfcc(wav, len(c))


def cached_analysis(paths: list[str]) -> dict[str, tuple[Contours, np.ndarray]]:
    """Each file's contours and MFCCs; cached per corpus folder in cache/prosody/ (keyed by the
    folder and its manifest), so held-out variants reuse one analysis."""
    from tqdm import tqdm
    out = {}
    for folder in sorted({_corpus_folder(p) for p in paths}):
        manifest = Path(folder) / "manifest.csv"
        key = hashlib.sha256(folder.encode() + manifest.read_bytes()).hexdigest()[:16]
        cache = CACHE / "prosody" / f"{Path(folder).name}-{key}.npz"
        files = sorted(r["path"] for r in _rows(manifest) if r["emotion"] in EMOTIONS)
        if cache.is_file():
            with np.load(cache, allow_pickle=False) as z:
                out.update({p: (Contours(z[f"{i}/f0"], z[f"{i}/energy"], z[f"{i}/bands"]), z[f"{i}/mfcc"])
                            for i, p in enumerate(files)})
            continue
        done = {p: analyse_file(p) for p in tqdm(files, desc=f"analysing {Path(folder).name}", mininterval=10)}
        arrays = {f"{i}/{k}": v for i, p in enumerate(files)
                  for k, v in zip(("f0", "energy", "bands", "mfcc"), (*vars(done[p][0]).values(), done[p][1]))}
        cache.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(cache, overwrite=True) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, **arrays)
        out.update(done)
    return out


def _corpus_folder(path: str) -> str:
    """The folder holding the manifest.csv that lists `path`."""
    for parent in Path(path).parents:
        if (parent / "manifest.csv").is_file():
            return str(parent)
    raise UserError(f"{path}: no manifest.csv in any folder above it")


def trim_contours(c: Contours, start: int, end: int) -> Contours:
    return Contours(c.f0[start:end], c.energy[start:end], c.bands[start:end])


def aligned_pairs(pair_list, analysis: dict) -> Iterator[tuple]:
    """For each pair whose takes both hold 0.2 s of speech: (its index, neutral row, emotional row, the
    neutral contours, the neutral and the emotional speech span, targets, weights), the targets read
    at the DTW-aligned frames of the speech."""
    for k, (n, e) in enumerate(pair_list):
        (cn, mn), (ce, me) = analysis[n["path"]], analysis[e["path"]]
        s0, s1 = speech_span(cn.energy)
        t0, t1 = speech_span(ce.energy)
        if s1 - s0 < 20 or t1 - t0 < 20:
            continue
        y, w = targets(trim_contours(cn, s0, s1), trim_contours(ce, t0, t1), align(mn[s0:s1], me[t0:t1]))
        yield k, n, e, cn, (s0, s1), (t0, t1), y, w


def build_rows(pair_list, corpora: list[str], frame_step: int = 2, cache: bool = True):
    """(inputs, emotion codes, intensities, targets, weights, speaker per row, pair index per row).
    The inputs end with the pair's corpus (one-hot over `corpora`): each corpus's recording and
    labelling (ESD has no intensity) is learned as its own, and the model speaks as the first.
    `cache`: analyse whole corpora once into cache/prosody/; False analyses just these files."""
    from tqdm import tqdm
    paths = sorted({r["path"] for p in pair_list for r in p})
    analysis = cached_analysis(paths) if cache else {p: analyse_file(p) for p in paths}
    cols = defaultdict(list)
    for k, n, e, cn, (s0, s1), _, y, w in aligned_pairs(tqdm(pair_list, desc="aligning pairs", mininterval=5), analysis):
        x = model_inputs(cn.f0, cn.energy)[s0:s1]
        x = np.hstack([x, np.tile(np.eye(len(corpora), dtype=np.float32)[corpora.index(n["corpus"])], (len(x), 1))])
        rows = slice(k % frame_step, None, frame_step)
        count = len(x[rows])
        cols["x"].append(x[rows]); cols["y"].append(y[rows]); cols["w"].append(w[rows])
        cols["emotion"].append(np.full(count, TARGET_EMOTIONS.index(e["emotion"])))
        cols["intensity"].append(np.full(count, INTENSITY.get(e["intensity"], 0.5), np.float32))
        cols["speaker"].append(np.full(count, n["speaker"], dtype=object))
        cols["pair"].append(np.full(count, k))
    return tuple(np.concatenate(cols[k]) for k in ("x", "emotion", "intensity", "y", "w", "speaker", "pair"))


def spread_ratios(pair_list) -> np.ndarray:
    """[emotion, intensity (normal, strong), (pitch, energy)]: the median over pairs of how much
    wider the emotional take's pitch (st, voiced frames) and energy (dB, speech frames) spread
    than its neutral take's (ratio of standard deviations). A model trained on squared error
    predicts the conditional mean, which flattens a contour (the emotional contour is only partly
    predictable from the neutral one); `match_spread` restores the spread real takes have (global
    variance, as in statistical voice conversion)."""
    analysis = cached_analysis(sorted({r["path"] for p in pair_list for r in p}))
    found = defaultdict(list)
    for n, e in pair_list:
        spreads = []
        for c in (analysis[n["path"]][0], analysis[e["path"]][0]):
            start, end = speech_span(c.energy)
            voiced = c.f0[start:end] > VOICED_HZ
            pitch = 12 * np.log2(c.f0[start:end][voiced]) if voiced.sum() >= 10 else np.zeros(1)
            spreads.append((pitch.std(), c.energy[start:end].std()))
        (pn, en), (pe, ee) = spreads
        if pn > 0.1 and en > 0.1:
            level = 1 if e["intensity"] == "strong" else 0
            found[(TARGET_EMOTIONS.index(e["emotion"]), level)].append((pe / pn, ee / en))
    out = np.ones((len(TARGET_EMOTIONS), 2, 2), np.float32)
    for (emotion, level), ratios in found.items():
        out[emotion, level] = np.median(ratios, axis=0)
    for emotion in range(len(TARGET_EMOTIONS)):        # an emotion with only one intensity uses it for both
        for level in (0, 1):
            if (emotion, level) not in found and (emotion, 1 - level) in found:
                out[emotion, level] = out[emotion, 1 - level]
    return out


def match_spread(base: np.ndarray, change: np.ndarray, rows: np.ndarray, ratio: float) -> np.ndarray:
    """`change` rescaled around its contour's mean so that base + change spreads `ratio` times as
    wide as `base` over `rows` (standard deviation); unchanged when there are too few rows."""
    if rows.sum() < 10:
        return change
    contour = base + change
    mean, spread = contour[rows].mean(), contour[rows].std()
    if spread < 1e-6:
        return change
    factor = float(np.clip(ratio * base[rows].std() / spread, 0.5, 3.0))
    return mean + (contour - mean) * factor - base


def neutral_shape(y: np.ndarray, f0: np.ndarray, energy: np.ndarray) -> np.ndarray:
    """`y` with the pitch change made constant at its mean over the voiced speech and the energy
    change at its mean over the speech: the contours keep their own shape."""
    start, end = speech_span(energy)
    speech = np.zeros(len(f0), bool)
    speech[start:end] = True
    y = y.copy()
    for col, where in ((0, speech & (f0 > VOICED_HZ)), (1, speech)):
        if where.any():
            y[:, col] = y[where, col].mean()
    return y


def conditioned(x: np.ndarray, emotion: np.ndarray, intensity: np.ndarray) -> np.ndarray:
    """Frame inputs with the emotion (one-hot) and the one-hot scaled by intensity appended."""
    onehot = np.eye(len(TARGET_EMOTIONS), dtype=np.float32)[emotion]
    return np.hstack([x, onehot, onehot * intensity[:, None]]).astype(np.float32)


# ---- the network ---------------------------------------------------------------------------------

class EmotionModel:
    """The trained MLP with its input and output scalings; `edit` applies it to one utterance."""

    def __init__(self, arrays: dict[str, np.ndarray]):
        self.arrays = arrays
        self.layers = [(arrays[f"w{i}"], arrays[f"b{i}"]) for i in range(sum(k.startswith("w") for k in arrays))]

    def predict(self, x: np.ndarray) -> np.ndarray:
        a = (x - self.arrays["x_mean"]) / self.arrays["x_std"]
        for i, (w, b) in enumerate(self.layers):
            a = a @ w + b
            if i < len(self.layers) - 1:
                a = np.tanh(a)
        return a * self.arrays["y_std"] + self.arrays["y_mean"]

    def spread(self, y: np.ndarray, f0: np.ndarray, energy: np.ndarray, emotion: str, level: float) -> np.ndarray:
        """`y` with its pitch change (and, for the learned shape, its energy change) rescaled
        (`match_spread`) to the spread real takes of `emotion` have at intensity `level` (0.5 normal ..
        1 strong, interpolated)."""
        table = self.arrays["spread"][TARGET_EMOTIONS.index(emotion)]
        ratio = table[0] + (table[1] - table[0]) * (level - 0.5) / 0.5
        st, voiced, _ = semitones(f0)
        start, end = speech_span(energy)
        speech = np.zeros(len(f0), bool)
        speech[start:end] = True
        y = y.copy()
        y[:, 0] = match_spread(st, y[:, 0], voiced & speech, ratio[0])
        if "neutral_shape" not in self.arrays:      # a constant energy change keeps the speaker's own spread
            y[:, 1] = match_spread(energy, y[:, 1], speech, ratio[1])
        return y

    def edit(self, f0: np.ndarray, energy: np.ndarray, emotion: str, intensity: float) -> np.ndarray:
        """[frames, OUTPUTS] changes for an utterance with these 10-ms contours (F0 Hz, energy dB).
        Neutral or intensity 0: all zeros. Below 'normal' (0.5) the normal change is scaled down;
        outside the speech the timing is left alone and the other changes hold their edge values."""
        n = len(f0)
        out = np.zeros((n, len(OUTPUTS)), np.float32)
        if emotion == "neutral" or intensity <= 0 or n == 0:
            return out
        level = max(intensity, 0.5)
        frame = model_inputs(f0, energy)
        reference = np.zeros((n, self.arrays["x_mean"].shape[0] - FRAME_INPUTS - 2 * len(TARGET_EMOTIONS)), np.float32)
        reference[:, 0] = 1.0                                   # speak as the first training corpus
        x = conditioned(np.hstack([frame, reference]), np.full(n, TARGET_EMOTIONS.index(emotion)),
                        np.full(n, level, np.float32))
        y = self.predict(x)
        if "neutral_shape" in self.arrays:
            y = neutral_shape(y, f0, energy)
        if "spread" in self.arrays:
            y = self.spread(y, f0, energy, emotion, level)
        kernel = np.ones(SMOOTH_FRAMES) / SMOOTH_FRAMES
        pad = SMOOTH_FRAMES // 2
        y = np.stack([np.convolve(np.pad(col, pad, mode="edge"), kernel, mode="valid") for col in y.T], axis=1)
        start, end = speech_span(energy)
        y[:start] = y[start]
        y[end:] = y[end - 1]
        col = OUTPUTS.index("stretch")
        y[:, col] = centre_stretch(y[:, col], energy, -np.log(profile_rate(emotion, level)))
        y[:start, col] = 0.0
        y[end:, col] = 0.0
        return (y * min(intensity / 0.5, 1.0)).astype(np.float32)


def profile_rate(emotion: str, level: float) -> float:
    """The speech-rate ratio real takes of `emotion` have at intensity `level` (tts/profiles.yaml,
    measured on RAVDESS): the model's timing keeps its shape and takes this overall pace."""
    return profile(emotion, level).rate


def fit(x: np.ndarray, y: np.ndarray, w: np.ndarray, cfg: ProsodyExperiment, log=print) -> EmotionModel:
    """Train the MLP (Adam, masked squared error on standardised targets) with JAX."""
    import jax
    import jax.numpy as jnp
    x_mean, x_std = x.mean(0), x.std(0) + 1e-6
    y_mean = (y * w).sum(0) / w.sum(0)
    y_std = np.sqrt((w * (y - y_mean) ** 2).sum(0) / w.sum(0)) + 1e-6
    xs, ys = (x - x_mean) / x_std, (y - y_mean) / y_std
    sizes = [x.shape[1], *cfg.net.hidden, y.shape[1]]
    key = jax.random.PRNGKey(cfg.seed)
    params = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        key, sub = jax.random.split(key)
        params.append((jax.random.normal(sub, (a, b)) * np.sqrt(1.0 / a), jnp.zeros(b)))

    def forward(p, a):
        for i, (wt, bias) in enumerate(p):
            a = a @ wt + bias
            if i < len(p) - 1:
                a = jnp.tanh(a)
        return a

    def loss(p, xb, yb, wb):
        r = forward(p, xb) - yb
        return (wb * r * r).sum() / (wb.sum() + 1e-6) + cfg.train.l2 * sum((wt ** 2).sum() for wt, _ in p)

    @jax.jit
    def step(p, m, v, t, xb, yb, wb):
        value, grads = jax.value_and_grad(loss)(p, xb, yb, wb)
        m = jax.tree_util.tree_map(lambda m_, g: 0.9 * m_ + 0.1 * g, m, grads)
        v = jax.tree_util.tree_map(lambda v_, g: 0.999 * v_ + 0.001 * g * g, v, grads)
        lr = cfg.train.lr * jnp.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
        p = jax.tree_util.tree_map(lambda p_, m_, v_: p_ - lr * m_ / (jnp.sqrt(v_) + 1e-8), p, m, v)
        return p, m, v, value

    m = jax.tree_util.tree_map(jnp.zeros_like, params)
    v = jax.tree_util.tree_map(jnp.zeros_like, params)
    rng = np.random.default_rng(cfg.seed)
    t, batch = 0, cfg.train.batch
    for epoch in range(cfg.train.epochs):
        order = rng.permutation(len(xs))
        total = 0.0
        for i in range(0, len(order) - batch + 1, batch):
            idx = order[i:i + batch]
            t += 1
            params, m, v, value = step(params, m, v, t, xs[idx], ys[idx], w[idx])
            total += float(value)
        if log and (epoch % 5 == 4 or epoch == cfg.train.epochs - 1):
            log(f"epoch {epoch + 1}/{cfg.train.epochs}: loss {total / max(1, len(order) // batch):.4f}")
    arrays = {"x_mean": x_mean, "x_std": x_std, "y_mean": y_mean, "y_std": y_std}
    for i, (wt, bias) in enumerate(params):
        arrays[f"w{i}"], arrays[f"b{i}"] = np.asarray(wt), np.asarray(bias)
    return EmotionModel({k: np.asarray(a, np.float32) for k, a in arrays.items()})


# ---- saving and loading --------------------------------------------------------------------------

MODEL, META = "model.npz", "model.json"


def save(model: EmotionModel, folder: Path, meta: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder / MODEL, overwrite=True) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **model.arrays)
    digest = sha256(folder / MODEL)
    meta = {"outputs": list(OUTPUTS), "emotions": TARGET_EMOTIONS, "hop_s": HOP, **meta, "sha256": digest}
    with atomic_path(folder / META, overwrite=True) as tmp:
        Path(tmp).write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")


def load(folder: str | Path = CHECKPOINT) -> EmotionModel:
    """The model in `folder`, checked against its sha256 and its declared shapes; a damaged or
    foreign file is a one-line UserError."""
    return _load(str(Path(folder)))


@lru_cache(maxsize=4)
def _load(folder: str) -> EmotionModel:
    fix = f"restore it (git checkout -- {folder}) or retrain: python -m emovc.tts.train_emotion --config configs/prosody.yaml"
    meta, arrays = load_verified_arrays(Path(folder), MODEL, META, "emotion model", fix)
    if meta.get("outputs") != list(OUTPUTS) or meta.get("emotions") != TARGET_EMOTIONS or meta.get("hop_s") != HOP:
        raise UserError(f"emotion model {folder} was made for other inputs or outputs; {fix}")
    _check_shapes(arrays, folder, fix)
    return EmotionModel(arrays)


def _check_shapes(arrays: dict[str, np.ndarray], folder: str, fix: str) -> None:
    def fits() -> bool:
        layers = sum(k.startswith("w") for k in arrays)
        if set(arrays) - {"x_mean", "x_std", "y_mean", "y_std", "spread", "neutral_shape"} - {f"{p}{i}" for p in "wb" for i in range(layers)}:
            return False
        if not layers or any(k not in arrays for k in ("x_mean", "x_std", "y_mean", "y_std")):
            return False
        width = arrays["x_mean"].shape[0]
        if arrays["x_mean"].ndim != 1 or width <= FRAME_INPUTS + 2 * len(TARGET_EMOTIONS):   # at least one corpus
            return False
        for i in range(layers):
            w, b = arrays.get(f"w{i}"), arrays.get(f"b{i}")
            if w is None or b is None or w.ndim != 2 or w.shape[0] != width or b.shape != (w.shape[1],):
                return False
            width = w.shape[1]
        if "spread" in arrays and arrays["spread"].shape != (len(TARGET_EMOTIONS), 2, 2):
            return False
        return (width == len(OUTPUTS) and arrays["x_std"].shape == arrays["x_mean"].shape
                and arrays["y_std"].shape == arrays["y_mean"].shape == (len(OUTPUTS),)
                and all(np.isfinite(a).all() for a in arrays.values()))
    if not fits():
        raise UserError(f"emotion model {folder} has missing, misshapen or non-finite weights; {fix}")
