"""Frame-by-frame prosody edits resynthesised with the WORLD vocoder (pyworld, MIT).

`render` takes a recording, its 10-ms F0 (tts/contours.py) and an edit [frames, OUTPUTS] (pitch st,
energy dB, log duration factor, band-shape dB) and moves all of them on WORLD's parameters: F0
replaced, the spectral envelope and aperiodicity read at time-warped frames, the envelope raised by
the energy change and shaped by the band change (the band shape keeps each frame's level). This is
how the project lead moved real emotional contours onto neutral takes.
"""
import numpy as np

from emovc.tts.contours import BAND_EDGES, HOP, OUTPUTS, VOICED_HZ

PERIOD_MS = 5.0


def _pyworld():
    """pyworld, without the deprecation warning its import of pkg_resources prints."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        import pyworld
    return pyworld


def analyse(x: np.ndarray, sr: int, f0: np.ndarray):
    """WORLD's (F0, spectral envelope, aperiodicity, frame times) of `x`, F0 seeded by the 10-ms
    Praat F0 (its voicing kept) and refined by StoneMask."""
    pyworld = _pyworld()
    times = np.arange(int(len(x) / sr * 1000 / PERIOD_MS) + 1) * PERIOD_MS / 1000
    seed = f0[np.clip(np.round(times / HOP).astype(int), 0, len(f0) - 1)]
    seed = np.where(seed > VOICED_HZ, seed, 0.0).astype(np.float64)
    refined = pyworld.stonemask(x, seed, times, sr)
    refined = np.where((seed > 0) & (refined > VOICED_HZ), refined, seed)
    return refined, pyworld.cheaptrick(x, refined, times, sr), pyworld.d4c(x, refined, times, sr), times


def band_gain(freqs: np.ndarray, bands: np.ndarray) -> np.ndarray:
    """[frames, freqs] dB: the band changes (dB per band of BAND_EDGES) interpolated over log frequency."""
    centres = np.log(np.sqrt(np.maximum(BAND_EDGES[:-1], 100) * np.array(BAND_EDGES[1:])))
    log_f = np.log(np.maximum(freqs, 50))
    return np.stack([np.interp(log_f, centres, np.clip(row, -12, 12)) for row in bands])


def render(wav: np.ndarray, sr: int, f0: np.ndarray, edit: np.ndarray, change_rate: bool = True) -> np.ndarray:
    """`wav` with `edit` (per 10-ms frame of `f0`) applied through WORLD; float32, same rate."""
    pyworld = _pyworld()
    x = np.asarray(wav, np.float64)
    f0_w, sp, ap, times = analyse(x, sr, f0)
    frames = times / HOP
    idx = np.arange(len(edit))
    change = np.stack([np.interp(frames, idx, col) for col in edit.T], axis=1)    # edit on WORLD's frames
    stretch = np.exp(change[:, OUTPUTS.index("stretch")]) if change_rate else np.ones(len(times))
    ends = np.cumsum(stretch)                                  # each input frame's end on the output axis
    source = np.interp(np.arange(int(ends[-1])), np.concatenate([[0.0], ends[:-1]]), np.arange(len(times)))
    near = np.clip(np.round(source).astype(int), 0, len(times) - 1)
    low = np.clip(np.floor(source).astype(int), 0, len(times) - 1)
    high = np.minimum(low + 1, len(times) - 1)
    frac = (source - low)[:, None]
    log_sp = (1 - frac) * np.log(sp[low] + 1e-16) + frac * np.log(sp[high] + 1e-16)
    ap_out = np.clip((1 - frac) * ap[low] + frac * ap[high], 0.0, 1.0)
    freqs = np.linspace(0, sr / 2, sp.shape[1])
    shape = band_gain(freqs, change[near, OUTPUTS.index("band0"):]) * np.log(10) / 10
    keep = np.log(np.exp(log_sp).sum(1) / np.exp(log_sp + shape).sum(1))    # the band shape alone keeps the level
    level = np.clip(change[near, OUTPUTS.index("energy")], -20, 20) * np.log(10) / 10
    sp_out = np.exp(log_sp + shape + keep[:, None] + level[:, None])
    f0_out = f0_w[near] * 2 ** (change[near, OUTPUTS.index("pitch")] / 12)
    f0_out = np.where(f0_w[near] > 0, np.clip(f0_out, VOICED_HZ, 1000.0), 0.0)
    y = pyworld.synthesize(np.ascontiguousarray(f0_out), np.ascontiguousarray(sp_out), np.ascontiguousarray(ap_out), sr, PERIOD_MS)
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    return (y * (0.99 / peak) if peak > 0.99 else y).astype(np.float32)
