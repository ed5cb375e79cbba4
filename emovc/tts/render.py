"""Emotion rendering: move a neutral utterance's prosody by an emotion's profile.

A profile (tts/profiles.yaml, built from RAVDESS by `python -m emovc.tts.build_profiles`) says how
an emotion differs from the same actor's neutral speech:

    pitch   F0 median shift, semitones       range   F0 range (p10..p90) ratio
    rate    speech-rate ratio (>1 faster)    energy  level change, dB
    tilt    (1-5 kHz minus 0-1 kHz) band level change, dB (>0 brighter)
    hnr     harmonics-to-noise change, dB (<0 breathier; >0 is not applied: added noise
            cannot be taken out again without a vocoder)

Pitch, range and rate are applied by PSOLA (Praat); energy and tilt by one zero-phase filter;
breathiness by mixing in noise shaped like the speech itself. No vocoder resynthesis, so the
voice keeps its quality. `render_emotion` works on any speaker, language and sample rate.

That is the `profile` renderer, the default. The others move the utterance frame by frame: `contour`
with the emotion model learned from real parallel takes (tts/emotion_model.py), `exemplar` with the
real contours of the nearest training takes (tts/exemplar.py); the `psola` vocoder applies the pitch
contour and local timing by PSOLA and the energy contour and voice quality (band shape) by a
time-varying filter, `world` all of them by WORLD resynthesis (tts/world.py).
"""
from dataclasses import asdict

import numpy as np

import emovc.tts.exemplar as exemplar
from emovc.core.errors import AudioError, UserError
from emovc.core.labels import normalise_emotion
from emovc.tts.contours import BAND_EDGES, HOP, OUTPUTS, PITCH_CEILING, PITCH_FLOOR, VOICED_HZ, analyse
from emovc.tts.emotion_model import CHECKPOINT
from emovc.tts.emotion_model import load as load_emotion_model
from emovc.tts.profiles import Prosody, parse_intensity, profile

MIN_DURATION = 0.1                             # s; shorter input is returned as it is
RENDERERS = ("contour", "exemplar", "profile")
VOCODERS = ("psola", "world")


def check_renderer(renderer: str) -> str:
    if renderer not in RENDERERS:
        raise UserError(f"unknown renderer {renderer!r}; use exemplar (real contours of the nearest training takes), "
                        "contour (the learned emotion model) or profile")
    return renderer


def check_vocoder(vocoder: str) -> str:
    if vocoder not in VOCODERS:
        raise UserError(f"unknown vocoder {vocoder!r}; use world or psola")
    return vocoder


def edit_source(renderer: str, folder=None):
    """What gives the frame-by-frame change: the exemplar bank or the emotion model (`folder`, default
    the shipped one of that renderer)."""
    if renderer == "exemplar" or (folder and exemplar.is_bank(folder)):
        return exemplar.load(folder or exemplar.BANK)
    return load_emotion_model(folder or CHECKPOINT)


def render_emotion(wav: np.ndarray, sr: int, emotion: str, intensity: str | float = "normal",
                   change_rate: bool = True, renderer: str = "profile", emotion_model=None,
                   vocoder: str = "psola") -> np.ndarray:
    """Return `wav` (float32 mono) spoken with `emotion`'s prosody; same sample rate, same voice.

    `renderer`: `profile` (the emotion's global profile, the default), `contour` (the emotion model
    learned from real takes, frame by frame) or `exemplar` (the real contours of the nearest training
    takes); `emotion_model` names the model or bank folder, default the shipped one; `vocoder` (psola +
    filter, or world) applies the frame-by-frame change. docs/tts.md has the figures behind the defaults.
    `change_rate=False` leaves the timing alone (for engines that already set it).
    """
    emotion, level = normalise_emotion(emotion), parse_intensity(intensity)
    wav = np.asarray(wav, dtype=np.float32)
    if wav.ndim != 1 or not np.all(np.isfinite(wav)):
        raise AudioError("render_emotion needs a finite mono waveform (1-D); average the channels first")
    if len(wav) < MIN_DURATION * sr:
        return wav                                         # too short to carry prosody
    if check_renderer(renderer) != "profile":
        return render_contours(wav, sr, emotion, level, change_rate, edit_source(renderer, emotion_model),
                               check_vocoder(vocoder))
    p = profile(emotion, intensity)
    if not change_rate:
        p = Prosody(**{**asdict(p), "rate": 1.0})
    if p == Prosody():
        return wav
    out = wav
    if abs(p.pitch) > 1e-3 or abs(p.range - 1) > 1e-3 or abs(p.rate - 1) > 1e-3:
        out = _psola(out, sr, p)
    out = _voice_quality(out, sr, p, _mean_hnr(wav, sr) + p.hnr)
    peak = float(np.max(np.abs(out))) if out.size else 0.0
    return (out * (0.99 / peak) if peak > 0.99 else out).astype(np.float32)


def render_contours(wav: np.ndarray, sr: int, emotion: str, intensity: float, change_rate: bool,
                    source, vocoder: str = "psola") -> np.ndarray:
    """`source`'s frame-by-frame change (the emotion model or the exemplar bank) applied to a recording:
    with `world`, every change on WORLD's parameters (tts/world.py); with `psola`, pitch contour and
    local timing by PSOLA, then energy and voice quality by `post_filter` at the moved times."""
    contours = analyse(wav, sr)
    edit = source.edit(contours.f0, contours.energy, emotion, intensity)
    if not edit.any():
        return wav
    if vocoder == "world":
        import emovc.tts.world as world     # pyworld: only for this vocoder
        return world.render(wav, sr, contours.f0, edit, change_rate)
    stretch = np.exp(edit[:, OUTPUTS.index("stretch")]) if change_rate else np.ones(len(edit))
    out = _psola_contours(wav, sr, contours.f0, edit[:, OUTPUTS.index("pitch")], stretch)
    times = np.concatenate([[0.0], np.cumsum(stretch[:-1])]) * HOP
    out = post_filter(out, sr, times, edit[:, OUTPUTS.index("energy")], edit[:, OUTPUTS.index("band0"):])
    peak = float(np.max(np.abs(out))) if out.size else 0.0
    return (out * (0.99 / peak) if peak > 0.99 else out).astype(np.float32)


def _psola_contours(wav: np.ndarray, sr: int, f0: np.ndarray, pitch: np.ndarray, stretch: np.ndarray) -> np.ndarray:
    """PSOLA with a new pitch point on every voiced 10-ms frame and a duration point every frame."""
    from parselmouth.praat import call
    sound = _sound(wav, sr)
    manipulation = call(sound, "To Manipulation", 0.01, PITCH_FLOOR, PITCH_CEILING)
    voiced = np.flatnonzero(f0 > VOICED_HZ)
    if len(voiced):
        tier = call("Create PitchTier", "emotion", 0, sound.duration)
        for i in voiced:
            call(tier, "Add point", i * HOP, float(np.clip(f0[i] * 2 ** (pitch[i] / 12), PITCH_FLOOR, PITCH_CEILING)))
        call([manipulation, tier], "Replace pitch tier")
    if np.any(np.abs(stretch - 1) > 1e-3):
        durations = call("Create DurationTier", "emotion", 0, sound.duration)
        for i in range(0, len(stretch), 2):
            call(durations, "Add point", i * HOP, float(stretch[i]))
        call([manipulation, durations], "Replace duration tier")
    return call(manipulation, "Get resynthesis (overlap-add)").values[0].astype(np.float32)


def post_filter(wav: np.ndarray, sr: int, times: np.ndarray, energy: np.ndarray, bands: np.ndarray) -> np.ndarray:
    """A time-varying filter: at each time in `times` (s), raise the level by `energy` dB and the
    bands of tts.contours.BAND_EDGES by `bands` dB relative to the frame (its voice quality),
    interpolated over time and frequency; the band shape keeps the frame's level."""
    from scipy.signal import istft, stft
    x = np.asarray(wav, np.float64)
    size = 2 ** int(np.ceil(np.log2(0.032 * sr)))
    freqs, frame_times, spec = stft(x, fs=sr, nperseg=size, noverlap=size * 3 // 4)
    centres = np.sqrt(np.maximum(BAND_EDGES[:-1], 100) * np.array(BAND_EDGES[1:]))
    level = np.interp(frame_times, times, np.clip(energy, -20, 20))
    shape = np.stack([np.interp(frame_times, times, np.clip(b, -12, 12)) for b in np.asarray(bands).T], axis=1)
    log_f = np.log(np.maximum(freqs, 50))
    curve = np.stack([np.interp(log_f, np.log(centres), row) for row in shape], axis=1)   # [freqs, frames]
    power = np.abs(spec) ** 2
    shaped = (power * 10 ** (curve / 10)).sum(axis=0) + 1e-20
    keep = 10 * np.log10((power.sum(axis=0) + 1e-20) / shaped)        # the band shape alone changes no level
    gain = 10 ** ((curve + keep + level) / 20)
    _, y = istft(spec * gain, fs=sr, nperseg=size, noverlap=size * 3 // 4)
    return y[:len(x)].astype(np.float32) if len(y) >= len(x) else np.pad(y, (0, len(x) - len(y))).astype(np.float32)


def _sound(wav: np.ndarray, sr: int):
    import parselmouth
    return parselmouth.Sound(np.asarray(wav, dtype=np.float64), sampling_frequency=sr)


def _psola(wav: np.ndarray, sr: int, p: Prosody) -> np.ndarray:
    from parselmouth.praat import call
    sound = _sound(wav, sr)
    f0 = sound.to_pitch(pitch_floor=PITCH_FLOOR, pitch_ceiling=PITCH_CEILING).selected_array["frequency"]
    if not np.any(f0 > 0):
        return wav                                         # nothing voiced to move
    median = float(np.median(f0[f0 > 0]))
    manipulation = call(sound, "To Manipulation", 0.01, PITCH_FLOOR, PITCH_CEILING)
    tier = call(manipulation, "Extract pitch tier")
    target = median * 2 ** (p.pitch / 12)
    call(tier, "Formula", f"{target} * (self / {median}) ^ {p.range}")
    call([manipulation, tier], "Replace pitch tier")
    if abs(p.rate - 1) > 1e-3:
        durations = call("Create DurationTier", "rate", 0, sound.duration)
        call(durations, "Add point", 0, 1 / p.rate)
        call([manipulation, durations], "Replace duration tier")
    return call(manipulation, "Get resynthesis (overlap-add)").values[0].astype(np.float32)


def spectral_gain(wav: np.ndarray, sr: int, energy: float, tilt: float) -> np.ndarray:
    """Level (`energy` dB) and spectral tilt (`tilt` dB more above 1.4 kHz, 0 below 700 Hz) as one
    zero-phase linear filter, peak-limited to 0.99 by a whole-signal gain."""
    x = np.asarray(wav, dtype=np.float64)
    freqs = np.fft.rfftfreq(len(x), 1 / sr)
    shelf = np.clip(np.log2(np.maximum(freqs, 1) / 700), 0, 1)
    x = np.fft.irfft(np.fft.rfft(x) * 10 ** ((energy + tilt * shelf) / 20), n=len(x))
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    return (x * (0.99 / peak) if peak > 0.99 else x).astype(np.float32)


def _voice_quality(wav: np.ndarray, sr: int, p: Prosody, target_hnr: float) -> np.ndarray:
    """Level and spectral tilt (`spectral_gain`), then breathiness down to `target_hnr`."""
    x = spectral_gain(wav, sr, p.energy, p.tilt).astype(np.float64)
    return _breathier(x, sr, target_hnr).astype(np.float32)


def _mean_hnr(x: np.ndarray, sr: int) -> float:
    """Harmonics-to-noise ratio in dB, the mean over voiced frames (NaN when none), as `measure` reads it."""
    hnr = _sound(x, sr).to_harmonicity_cc(time_step=0.02, minimum_pitch=75).values
    return float(hnr[hnr > -200].mean()) if np.any(hnr > -200) else float("nan")


def _breathier(x: np.ndarray, sr: int, target_hnr: float) -> np.ndarray:
    """Mix in noise shaped like the speech (aspiration) until the HNR falls to `target_hnr`;
    `x` as it is when its HNR is already at or below it. Breathiness cannot be taken out."""
    if not _mean_hnr(x, sr) > target_hnr + 0.2:
        return x
    noise = _shaped_noise(x, sr)
    low, high = 0.0, 1.0                           # noise amplitude relative to the speech
    while high < 8 and _mean_hnr(x + high * noise, sr) > target_hnr:
        low, high = high, high * 2
    for _ in range(5):                             # bisection on the measured HNR, to 1/32 of the bracket
        mid = (low + high) / 2
        low, high = (mid, high) if _mean_hnr(x + mid * noise, sr) > target_hnr else (low, mid)
    return x + high * noise


def _shaped_noise(x: np.ndarray, sr: int) -> np.ndarray:
    """Noise with the short-time spectral envelope of `x`: 25 ms frames, power smoothed over
    600 Hz (wider than any harmonic spacing, so no pitch is left in it), random phase."""
    n = 2 ** int(np.ceil(np.log2(0.025 * sr)))
    hop = n // 2
    window = np.sqrt(np.hanning(n + 1)[:n])        # sqrt-Hann analysis and synthesis: sums to 1 at 50 %
    padded = np.pad(x, (n, n + hop - len(x) % hop))
    frames = np.lib.stride_tricks.sliding_window_view(padded, n)[::hop] * window
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    width = max(1, int(600 / (sr / n)))
    kernel = np.ones(width) / width
    magnitude = np.sqrt(np.apply_along_axis(np.convolve, 1, power, kernel, mode="same"))
    phase = np.exp(2j * np.pi * np.random.default_rng(0).random(magnitude.shape))
    noise = np.fft.irfft(magnitude * phase, n=n, axis=1) * window
    out = np.zeros(len(padded))
    for i, frame in enumerate(noise):
        out[i * hop:i * hop + n] += frame
    return out[n:n + len(x)]


def measure(wav: np.ndarray, sr: int) -> dict[str, float]:
    """Prosody of one utterance: F0 median/range (semitones re 100 Hz), speech duration (s),
    level (dB), tilt (dB), HNR (dB). The quantities the profiles compare."""
    sound = _sound(wav, sr)
    f0 = sound.to_pitch(pitch_floor=PITCH_FLOOR, pitch_ceiling=PITCH_CEILING).selected_array["frequency"]
    st = 12 * np.log2(f0[f0 > 0] / 100) if np.any(f0 > 0) else np.array([np.nan])
    frame = int(0.02 * sr)
    frames = np.lib.stride_tricks.sliding_window_view(np.asarray(wav, np.float64), frame)[::frame // 2]
    power = (frames ** 2).mean(axis=1) + 1e-12
    db = 10 * np.log10(power)
    active = db > db.max() - 35
    first, last = np.flatnonzero(active)[[0, -1]]
    spectrum = (np.abs(np.fft.rfft(frames[active] * np.hanning(frame), axis=1)) ** 2).mean(axis=0)
    freqs = np.fft.rfftfreq(frame, 1 / sr)
    band = lambda lo, hi: 10 * np.log10(spectrum[(freqs >= lo) & (freqs < hi)].sum() + 1e-12)
    hnr = sound.to_harmonicity_cc(time_step=0.02, minimum_pitch=75).values
    return {"f0_median": float(np.median(st)), "f0_range": float(np.subtract(*np.percentile(st, [90, 10]))),
            "duration": float((last - first + 1) * frame / 2 / sr), "energy": float(10 * np.log10(power[active].mean())),
            "tilt": float(band(1000, min(5000, sr / 2)) - band(50, 1000)),
            "hnr": float(hnr[hnr > -200].mean()) if np.any(hnr > -200) else float("nan")}
