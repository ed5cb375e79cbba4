"""Exemplar contours: real emotional prosody moved onto a new neutral utterance.

The emotion model (tts/emotion_model.py) predicts a conditional mean, which is flat. The exemplar
bank instead keeps, for every training pair (the same speaker saying the same words neutrally and
with an emotion), what the emotional take really did on the neutral take's time axis: pitch change
(st), energy change (dB), local duration factor (log) and band-shape change (dB), read on GRID
points of relative time over the speech. A new neutral utterance picks the `k` training pairs of
the emotion and intensity whose neutral contours (pitch, voicing, level on the same grid, and the
speech's length) are nearest to its own, and takes the mean of their real residuals: with small `k`
the change keeps the dynamics real takes have. No recogniser is involved.

    python -m emovc.tts.build_bank --config configs/prosody_bank.yaml   # build, evaluate held out, save
"""
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

import numpy as np

from emovc.core.audio import atomic_path
from emovc.core.config import ExistingPath, Range
from emovc.core.errors import UserError
from emovc.core.paths import ROOT
from emovc.core.weights import load_verified_arrays, sha256
from emovc.tts.contours import HOP, OUTPUTS, centre_stretch, semitones, speech_span
from emovc.tts.emotion_model import TARGET_EMOTIONS, aligned_pairs, analyse_file, cached_analysis

BANK = ROOT / "checkpoints" / "prosody_bank"
GRID = 48                      # relative-time points a pair's contours are kept on
KEY = ("pitch", "voicing", "level")
ARRAYS = {"key": 3, "residual": 3, "emotion": 1, "strong": 1, "duration": 1, "ratio": 1, "k": 1, "pool": 1}   # name: ndim


@dataclass
class BankData:
    sources: list[ExistingPath]                          # corpora with a manifest.csv
    hold_out: list[str] = field(default_factory=list)    # speakers left out of the bank


@dataclass
class BankEval:
    speakers: list[str] = field(default_factory=list)    # held-out speakers the settings are chosen on
    k: list[int] = field(default_factory=lambda: [1, 3, 8])
    sentences: Annotated[int, Range(0, 1000)] = 0         # ESD: hold out this many sentences as well


@dataclass
class BankOutput:
    checkpoint: Path = Path("checkpoints/prosody_bank")
    results: Path = Path("results")


@dataclass
class BankExperiment:
    name: str
    data: BankData
    k: Annotated[int, Range(1, 64)] = 3
    # the utterance's mean change and pace: `pool`, the mean over every pair of the emotion and intensity
    # (the exemplars give only the shape around it), or `exemplar`, the k exemplars' own
    means: Literal["pool", "exemplar"] = "pool"
    eval: BankEval = field(default_factory=BankEval)
    output: BankOutput = field(default_factory=BankOutput)


# ---- the grid ----------------------------------------------------------------------------------

def on_grid(values: np.ndarray, start: int, end: int) -> np.ndarray:
    """`values[start:end]` (frames first) read at GRID evenly spaced points of relative time."""
    frames = np.arange(start, end)
    points = np.linspace(start, end - 1, GRID)
    flat = values.reshape(len(values), -1)[start:end]
    return np.stack([np.interp(points, frames, col) for col in flat.T], axis=1)


def key(f0: np.ndarray, energy: np.ndarray) -> tuple[np.ndarray, float]:
    """([GRID, 3] pitch st re the median, voicing 0/1, level dB re the speech mean / 10; the speech's
    length in s) of a neutral utterance."""
    start, end = speech_span(energy)
    st, voiced, _ = semitones(f0)
    level = np.maximum(energy - energy[start:end].mean(), -40.0) / 10
    return on_grid(np.column_stack([st, voiced, level]), start, end), (end - start) * HOP


def filled(y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Each column of `y` interpolated through the frames where its weight is 0 (its mean, or 0,
    when it has too few defined frames)."""
    out = y.astype(np.float64).copy()
    idx = np.arange(len(y))
    for col in range(y.shape[1]):
        ok = w[:, col] > 0
        if ok.sum() >= 2:
            out[:, col] = np.interp(idx, idx[ok], y[ok, col])
        else:
            out[:, col] = y[ok, col].mean() if ok.any() else 0.0
    return out


# ---- building --------------------------------------------------------------------------------------

def records(pair_list, log=print, cache: bool = True) -> dict[str, np.ndarray]:
    """The bank's arrays for `pair_list` (neutral row, emotional row), from the analysis (`cache`: of
    whole corpora, cached; False: just these files) and the DTW alignment tts.emotion_model uses;
    pairs too short to align are skipped."""
    from tqdm import tqdm

    paths = sorted({r["path"] for p in pair_list for r in p})
    analysis = cached_analysis(paths) if cache else {p: analyse_file(p) for p in paths}
    out = {k: [] for k in ("key", "residual", "emotion", "strong", "duration", "ratio", "corpus", "speaker", "text")}
    for _, n, e, cn, (s0, s1), (t0, t1), y, w in aligned_pairs(tqdm(pair_list, desc="aligning pairs", mininterval=10), analysis):
        k, duration = key(cn.f0, cn.energy)
        out["key"].append(k)
        out["residual"].append(on_grid(filled(y, w), 0, len(y)))
        out["duration"].append(duration)
        out["ratio"].append(np.log((t1 - t0) / (s1 - s0)))
        out["emotion"].append(TARGET_EMOTIONS.index(e["emotion"]))
        out["strong"].append(e["intensity"] == "strong")
        out["corpus"].append(n["corpus"])
        out["speaker"].append(n["speaker"])
        out["text"].append(" ".join(n["text"].lower().split()).strip(" .!?"))
    if log:
        log(f"{len(out['key'])} of {len(pair_list)} pairs in the bank")
    return {k: np.array(v) for k, v in out.items()}


def relevel(rec: dict[str, np.ndarray], reference: str = "ravdess") -> dict[str, np.ndarray]:
    """Residuals and pace of the other corpora moved, per emotion, by the difference of their mean from
    the `reference` corpus's normal-intensity mean: ESD's text variety with RAVDESS's levels and pace
    (ESD's sad takes are louder than its neutral ones, RAVDESS's quieter)."""
    res, ratio = rec["residual"].copy(), rec["ratio"].copy()
    for e in np.unique(rec["emotion"]):
        ref = (rec["emotion"] == e) & (rec["corpus"] == reference) & ~rec["strong"]
        for corpus in set(rec["corpus"]) - {reference}:
            rows = (rec["emotion"] == e) & (rec["corpus"] == corpus)
            if ref.any() and rows.any():
                res[rows] += res[ref].mean(axis=(0, 1)) - res[rows].mean(axis=(0, 1))
                ratio[rows] += ratio[ref].mean() - ratio[rows].mean()
    return {**rec, "residual": res, "ratio": ratio}


def bank_arrays(rec: dict[str, np.ndarray], k: int, means: str = "pool") -> dict[str, np.ndarray]:
    """The plain float arrays saved as bank.npz (float16 contours, a few MB)."""
    return {"key": rec["key"].astype(np.float16), "residual": rec["residual"].astype(np.float16),
            "emotion": rec["emotion"].astype(np.float32), "strong": rec["strong"].astype(np.float32),
            "duration": rec["duration"].astype(np.float32), "ratio": rec["ratio"].astype(np.float32),
            "k": np.array([k], np.float32), "pool": np.array([means == "pool"], np.float32)}


# ---- using it ------------------------------------------------------------------------------------------

class ExemplarBank:
    """Real residual contours of training pairs; `edit` gives an utterance the nearest ones'."""

    def __init__(self, arrays: dict[str, np.ndarray]):
        self.key = arrays["key"].astype(np.float32)
        self.residual = arrays["residual"].astype(np.float32)
        self.emotion = arrays["emotion"].astype(int)
        self.strong = arrays["strong"] > 0.5
        self.log_duration = np.log(np.maximum(arrays["duration"], 0.05))
        self.ratio = arrays["ratio"].astype(np.float32)
        self.k = int(arrays["k"][0])
        self.pool = bool(arrays["pool"][0] > 0.5)

    def pool_rows(self, emotion: int, strong: bool) -> np.ndarray:
        """The pairs of this emotion and intensity (of either intensity when the emotion has only one)."""
        rows = np.flatnonzero((self.emotion == emotion) & (self.strong == strong))
        return rows if len(rows) else np.flatnonzero(self.emotion == emotion)

    def nearest(self, grid_key: np.ndarray, duration: float, emotion: int, strong: bool, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(indices, [k, GRID] warps) of the `k` pairs of this emotion and intensity whose neutral
        contours are nearest to the key by DTW (pitch per 3 st, voicing, level per 10 dB), plus the
        squared log ratio of the lengths; warp[i] is the exemplar's grid point matched to point i."""
        pool = self.pool_rows(emotion, strong)
        keys = self.key[pool]
        local = sum(((grid_key[None, :, None, f] - keys[:, None, :, f]) * w) ** 2       # [pool, i, j]
                    for f, w in enumerate((1 / 3, 1.0, 1.0)))
        total, steps = dtw(local)
        d = total / (2 * GRID) + (self.log_duration[pool] - np.log(max(duration, 0.05))) ** 2
        order = np.argsort(d, kind="stable")[:k]
        return pool[order], np.stack([warp(steps[c]) for c in order])

    def edit(self, f0: np.ndarray, energy: np.ndarray, emotion: str, intensity: float, k: int | None = None,
             pool: bool | None = None) -> np.ndarray:
        """[frames, OUTPUTS] changes for an utterance with these 10-ms contours, as EmotionModel.edit:
        zeros for neutral or intensity 0, scaled down below 'normal' (0.5); from 0.75 up the strong
        takes. With `pool` (default: the bank's setting) the mean change and the pace are the mean over
        all pairs of the emotion and intensity, the nearest exemplars giving the shape around it.
        Outside the speech the timing is left alone and the other changes hold their edge values."""
        n = len(f0)
        out = np.zeros((n, len(OUTPUTS)), np.float32)
        if emotion == "neutral" or intensity <= 0 or n == 0:
            return out
        grid_key, duration = key(f0, energy)
        chosen, warps = self.nearest(grid_key, duration, TARGET_EMOTIONS.index(emotion), intensity >= 0.75, k or self.k)
        change = np.mean([self.residual[c][w] for c, w in zip(chosen, warps)], axis=0)
        ratio = float(self.ratio[chosen].mean())
        if self.pool if pool is None else pool:
            rows = self.pool_rows(TARGET_EMOTIONS.index(emotion), intensity >= 0.75)
            change += self.residual[rows].mean(axis=(0, 1)) - change.mean(axis=0)
            ratio = float(self.ratio[rows].mean())
        start, end = speech_span(energy)
        frames = np.arange(start, end)
        points = np.linspace(start, end - 1, GRID)
        out[start:end] = np.stack([np.interp(frames, points, col) for col in change.T], axis=1)
        out[:start] = out[start]
        out[end:] = out[end - 1]
        col = OUTPUTS.index("stretch")
        out[:, col] = centre_stretch(out[:, col], energy, ratio)
        out[:start, col] = 0.0
        out[end:, col] = 0.0
        return out * min(intensity / 0.5, 1.0)


def dtw(local: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Batched DTW over [batch, n, m] local costs with steps (1,0), (0,1), (1,1), one anti-diagonal at
    a time: each path's total cost at (n-1, m-1) and the step taken into every cell (0 diagonal,
    1 from i-1, 2 from j-1)."""
    b, n, m = local.shape
    acc = np.full((b, n + 1, m + 1), np.inf, np.float32)
    acc[:, 0, 0] = 0.0
    steps = np.zeros((b, n, m), np.int8)
    for d in range(2, n + m + 1):
        i = np.arange(max(1, d - m), min(n, d - 1) + 1)
        j = d - i
        options = np.stack([acc[:, i - 1, j - 1], acc[:, i - 1, j], acc[:, i, j - 1]])
        steps[:, i - 1, j - 1] = options.argmin(0)
        acc[:, i, j] = local[:, i - 1, j - 1] + options.min(0)
    return acc[:, n, m], steps


def warp(steps: np.ndarray) -> np.ndarray:
    """From one DTW's steps, for each row i the first column j the path matches to it."""
    i, j = steps.shape[0] - 1, steps.shape[1] - 1
    out = np.zeros(steps.shape[0], int)
    while i >= 0 and j >= 0:
        out[i] = j
        step = steps[i, j]
        i, j = (i - 1, j - 1) if step == 0 else (i - 1, j) if step == 1 else (i, j - 1)
    return out


# ---- saving and loading ----------------------------------------------------------------------------

NPZ, META = "bank.npz", "bank.json"


def save(arrays: dict[str, np.ndarray], folder: Path, meta: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder / NPZ, overwrite=True) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
    meta = {"outputs": list(OUTPUTS), "key": list(KEY), "grid": GRID, "hop_s": HOP, **meta, "sha256": sha256(folder / NPZ)}
    with atomic_path(folder / META, overwrite=True) as tmp:
        Path(tmp).write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")


def is_bank(folder: str | Path) -> bool:
    return (Path(folder) / META).is_file()


def load(folder: str | Path = BANK) -> ExemplarBank:
    """The bank in `folder`, checked against its sha256 and shapes; a damaged file is a one-line UserError."""
    return _load(str(Path(folder)))


@lru_cache(maxsize=4)
def _load(folder: str) -> ExemplarBank:
    fix = f"restore it (git checkout -- {folder}) or rebuild: python -m emovc.tts.build_bank --config configs/prosody_bank.yaml"
    meta, arrays = load_verified_arrays(Path(folder), NPZ, META, "exemplar bank", fix)
    if meta.get("outputs") != list(OUTPUTS) or meta.get("grid") != GRID or meta.get("hop_s") != HOP:
        raise UserError(f"exemplar bank {folder} was made for other contours; {fix}")
    if not _fits(arrays):
        raise UserError(f"exemplar bank {folder} has missing, misshapen or non-finite arrays; {fix}")
    return ExemplarBank(arrays)


def _fits(arrays: dict[str, np.ndarray]) -> bool:
    if set(arrays) != set(ARRAYS) or any(arrays[k].ndim != d for k, d in ARRAYS.items()):
        return False
    count = len(arrays["key"])
    return (count > 0 and arrays["key"].shape[1:] == (GRID, len(KEY))
            and arrays["residual"].shape == (count, GRID, len(OUTPUTS))
            and all(len(arrays[k]) == count for k in ("emotion", "strong", "duration", "ratio"))
            and arrays["k"].shape == (1,) and 1 <= arrays["k"][0] <= 64
            and all(np.isfinite(a.astype(np.float32)).all() for a in arrays.values()))
