"""Prosody contours on a 10-ms grid, and the alignment of an emotional take with a neutral one.

`analyse` reads what the emotion model sees and changes: F0 (Hz, 0 where unvoiced), frame
energy (dB) and the spectral shape (level of five bands relative to the frame's level).
`model_inputs` turns a neutral utterance's F0 and energy into one row of model inputs per
frame (the frame's and its neighbours' pitch, voicing and energy, and its place in the phrase).
`align` pairs a neutral take with an emotional take of the same words by the same speaker
(DTW on MFCCs) and reads, per neutral frame, what the emotional take did there: the targets
the model learns (tts/emotion_model.py).
"""
from dataclasses import dataclass

import numpy as np

from emovc.core.audio import resample

HOP = 0.01                                   # s between frames
PITCH_FLOOR, PITCH_CEILING = 60.0, 600.0     # Hz: the F0 range every Praat analysis here reads
ANALYSIS_SR = 16000
BAND_EDGES = (0, 500, 1000, 2000, 4000, 8000)  # Hz; the spectral shape is read in these bands
CONTEXT = (-50, -25, -12, -6, 0, 6, 12, 25, 50)  # frames either side a row of inputs looks at
VOICED_HZ = 50.0
SILENCE_DB = 35.0                            # frames this far below the loudest are not speech
FRAME_INPUTS = 3 * len(CONTEXT) + 3          # columns of `model_inputs`
OUTPUTS = ("pitch", "energy", "stretch") + tuple(f"band{i}" for i in range(len(BAND_EDGES) - 1))


@dataclass
class Contours:
    f0: np.ndarray       # Hz per frame, 0 where unvoiced
    energy: np.ndarray   # dB per frame (dBFS of a 25-ms window)
    bands: np.ndarray    # [frames, bands] band level minus frame level, dB

    def __len__(self) -> int:
        return len(self.f0)


def analyse(wav: np.ndarray, sr: int) -> Contours:
    """F0, energy and band shape of `wav` every 10 ms (frame i centred at i * 10 ms)."""
    x = resample(np.asarray(wav, np.float32), sr, ANALYSIS_SR).astype(np.float64) if sr != ANALYSIS_SR else np.asarray(wav, np.float64)
    n = max(1, int(round(len(x) / ANALYSIS_SR / HOP)))
    return Contours(f0=_pitch(x, n), energy=_energy(x, n), bands=_bands(x, n))


def _frames(x: np.ndarray, n: int, size: int) -> np.ndarray:
    hop = int(HOP * ANALYSIS_SR)
    padded = np.pad(x, (size // 2, size + n * hop))
    return np.lib.stride_tricks.sliding_window_view(padded, size)[::hop][:n]


def _energy(x: np.ndarray, n: int) -> np.ndarray:
    frames = _frames(x, n, int(0.025 * ANALYSIS_SR))
    return 10 * np.log10((frames ** 2).mean(axis=1) + 1e-10)


def _bands(x: np.ndarray, n: int) -> np.ndarray:
    size = 512
    spectrum = np.abs(np.fft.rfft(_frames(x, n, size) * np.hanning(size), axis=1)) ** 2
    freqs = np.fft.rfftfreq(size, 1 / ANALYSIS_SR)
    level = 10 * np.log10(spectrum.sum(axis=1) + 1e-10)
    bands = [10 * np.log10(spectrum[:, (freqs >= lo) & (freqs < hi)].sum(axis=1) + 1e-10)
             for lo, hi in zip(BAND_EDGES[:-1], BAND_EDGES[1:])]
    return np.stack(bands, axis=1) - level[:, None]


def _pitch(x: np.ndarray, n: int) -> np.ndarray:
    import parselmouth
    pitch = parselmouth.Sound(x, sampling_frequency=ANALYSIS_SR).to_pitch(
        time_step=HOP, pitch_floor=PITCH_FLOOR, pitch_ceiling=PITCH_CEILING)
    f0 = pitch.selected_array["frequency"]
    times = pitch.xs()
    grid = np.arange(n) * HOP
    if not len(f0):
        return np.zeros(n)
    nearest = np.clip(np.searchsorted(times, grid), 0, len(times) - 1)
    left = np.clip(nearest - 1, 0, len(times) - 1)
    pick = np.where(np.abs(times[left] - grid) < np.abs(times[nearest] - grid), left, nearest)
    out = f0[pick]
    out[np.abs(times[pick] - grid) > HOP] = 0.0
    return out


def speech_span(energy: np.ndarray) -> tuple[int, int]:
    """First and one-past-last frame within SILENCE_DB of the loudest."""
    active = np.flatnonzero(energy > energy.max() - SILENCE_DB)
    return (int(active[0]), int(active[-1]) + 1) if len(active) else (0, len(energy))


def centre_stretch(stretch: np.ndarray, energy: np.ndarray, log_ratio: float) -> np.ndarray:
    """`stretch` (log duration factor per frame) shifted so the speech lasts exp(`log_ratio`) times as
    long as before: the mean of the factors over the speech, not of their logs (a mean of logs sits
    below the log of the mean, and an averaged prediction would speed the speech up)."""
    start, end = speech_span(energy)
    out = np.asarray(stretch, np.float64).copy()
    if end > start:
        out[start:end] += log_ratio - np.log(np.exp(out[start:end]).mean())
    return out


def semitones(f0: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """(log-F0 in semitones re the voiced median, interpolated through unvoiced frames; voiced
    mask; the median in Hz). An utterance with no voiced frame gives zeros and median 0."""
    voiced = f0 > VOICED_HZ
    if not voiced.any():
        return np.zeros(len(f0)), voiced, 0.0
    median = float(np.median(f0[voiced]))
    st = 12 * np.log2(np.maximum(f0, 1.0) / median)
    idx = np.arange(len(f0))
    return np.interp(idx, idx[voiced], st[voiced]), voiced, median


def model_inputs(f0: np.ndarray, energy: np.ndarray) -> np.ndarray:
    """One row per frame: pitch (st re the median), voicing and energy (dB re the speech's mean,
    floored at -40) at the CONTEXT offsets; the frame's place in the speech (0..1) and its distance
    from the speech's start and end (s, capped at 3)."""
    st, voiced, _ = semitones(f0)
    start, end = speech_span(energy)
    level = energy - energy[start:end].mean()
    level = np.maximum(level, -40.0)
    n = len(f0)
    idx = np.arange(n)
    cols = []
    for offset in CONTEXT:
        j = np.clip(idx + offset, 0, n - 1)
        cols += [st[j], voiced[j].astype(float), level[j] / 10]
    length = max(end - start, 1)
    cols += [np.clip((idx - start) / length, 0, 1), np.clip((idx - start) * HOP, 0, 3),
             np.clip((end - idx) * HOP, 0, 3)]
    return np.stack(cols, axis=1).astype(np.float32)


def mfcc(wav16: np.ndarray, n: int) -> np.ndarray:
    """MFCC 1..19 per frame, mean- and variance-normalised over the utterance, for alignment."""
    import librosa
    m = librosa.feature.mfcc(y=np.asarray(wav16, np.float32), sr=ANALYSIS_SR, n_mfcc=20, n_fft=400,
                             hop_length=int(HOP * ANALYSIS_SR), center=True)[1:, :n].T
    if len(m) < n:
        m = np.pad(m, ((0, n - len(m)), (0, 0)), mode="edge")
    return (m - m.mean(0)) / (m.std(0) + 1e-8)


def align(neutral: np.ndarray, emotional: np.ndarray) -> np.ndarray:
    """For each frame of `neutral` (MFCC rows), its time in `emotional` (fractional frame index),
    from the DTW path, smoothed over 50 ms and kept strictly increasing."""
    import librosa
    _, path = librosa.sequence.dtw(X=neutral.T, Y=emotional.T, metric="euclidean")
    path = path[::-1]
    n = len(neutral)
    tau = np.zeros(n)
    counts = np.zeros(n)
    np.add.at(tau, path[:, 0], path[:, 1])
    np.add.at(counts, path[:, 0], 1)
    tau = tau / np.maximum(counts, 1)
    tau = np.convolve(np.pad(tau, 2, mode="edge"), np.ones(5) / 5, mode="valid")
    return np.maximum.accumulate(tau + np.arange(n) * 1e-6)


def targets(neutral: Contours, emotional: Contours, tau: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(targets [frames, OUTPUTS], weights [frames, OUTPUTS]) of the neutral frames: the emotional
    take's pitch change (st), energy change (dB), local duration factor (log) and band-shape change
    (dB) at the aligned time; weight 0 where a target is undefined (unvoiced, silence)."""
    n = len(neutral)
    j = np.clip(np.round(tau).astype(int), 0, len(emotional) - 1)
    st_n, voiced_n, median = semitones(neutral.f0)
    st_e, voiced_e, _ = semitones(emotional.f0)
    if median > 0 and voiced_e.any():       # the emotional take's pitch on the neutral take's scale
        st_e = st_e + 12 * np.log2(np.median(emotional.f0[voiced_e]) / median)
    pitch = st_e[j] - st_n
    energy = emotional.energy[j] - neutral.energy
    rate = np.gradient(tau)
    rate = np.convolve(np.pad(rate, 5, mode="edge"), np.ones(11) / 11, mode="valid")
    stretch = np.log(np.clip(rate, 0.25, 4.0))
    bands = emotional.bands[j] - neutral.bands
    active_n = neutral.energy > neutral.energy.max() - SILENCE_DB
    active_e = emotional.energy[j] > emotional.energy.max() - SILENCE_DB
    start, end = speech_span(neutral.energy)
    inside = np.zeros(n, bool)
    inside[start:end] = True
    both = active_n & active_e
    y = np.column_stack([pitch, energy, stretch, bands])
    w = np.column_stack([voiced_n & voiced_e[j], both, inside, *[both] * bands.shape[1]]).astype(np.float32)
    return y.astype(np.float32), w
