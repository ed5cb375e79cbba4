"""Training-time augmentation that matches how speech reaches the recogniser in real use:
background noise, room reverberation, low-bitrate codecs (as phones and browsers deliver),
level changes and small speed (pitch + tempo) changes. Every function takes and returns a
16 kHz float waveform; all randomness comes from the `rng` passed in, so a seed fixes the copy.

Only real recordings are augmented: the project never trains on its own synthetic speech.
"""
import io

import numpy as np

from emovc.core.audio import SR


def add_noise(wav: np.ndarray, snr_db: float, rng: np.random.Generator, colour: str = "pink") -> np.ndarray:
    """Coloured noise (white, pink or brown) at `snr_db` below the speech's power."""
    spectrum = np.fft.rfft(rng.standard_normal(len(wav)))
    f = np.maximum(np.fft.rfftfreq(len(wav)), 1.0 / len(wav))
    spectrum /= {"white": 1.0, "pink": np.sqrt(f), "brown": f}[colour]
    noise = np.fft.irfft(spectrum, n=len(wav))
    speech_power = np.mean(wav ** 2) + 1e-12
    noise *= np.sqrt(speech_power / (np.mean(noise ** 2) + 1e-12) / 10 ** (snr_db / 10))
    return np.clip(wav + noise, -1, 1).astype(np.float32)


def room_impulse(rt60_s: float, rng: np.random.Generator, sr: int = SR) -> np.ndarray:
    """A synthetic room impulse response: the direct path, then exponentially decaying noise
    (60 dB down after `rt60_s`), a few milliseconds later."""
    n = int(rt60_s * sr)
    t = np.arange(n) / sr
    tail = rng.standard_normal(n) * 10 ** (-3 * t / rt60_s)
    tail[: int(0.003 * sr)] = 0.0
    ir = 0.5 * tail / np.sqrt(np.sum(tail ** 2))
    ir[0] = 1.0
    return ir


def reverberate(wav: np.ndarray, rt60_s: float, rng: np.random.Generator) -> np.ndarray:
    """The clip as heard in a room with reverberation time `rt60_s`, same length and RMS."""
    from scipy.signal import fftconvolve
    wet = fftconvolve(wav, room_impulse(rt60_s, rng))[: len(wav)]
    wet *= np.sqrt((np.mean(wav ** 2) + 1e-12) / (np.mean(wet ** 2) + 1e-12))
    return np.clip(wet, -1, 1).astype(np.float32)


# format, subtype, and the compression levels that give phone-like bitrates at 16 kHz
# (libsndfile 1.2: MP3 about 30 down to 18 kbit/s, Opus about 29 down to 9 kbit/s)
CODECS = {"mp3": ("MP3", "MPEG_LAYER_III", (0.5, 0.99)), "opus": ("OGG", "OPUS", (0.9, 0.99))}


def encode_decode(wav: np.ndarray, codec: str, level: float) -> np.ndarray:
    """The clip through a lossy codec and back (libsndfile's MP3 or Opus encoder at compression
    `level`, 0 the best quality, below 1), trimmed or padded to the input's length."""
    import soundfile as sf
    fmt, subtype, _ = CODECS[codec]
    buf = io.BytesIO()
    sf.write(buf, wav, SR, format=fmt, subtype=subtype, compression_level=level)
    buf.seek(0)
    out, _ = sf.read(buf, dtype="float32")
    out = out[: len(wav)]
    return np.pad(out, (0, len(wav) - len(out))).astype(np.float32)


def gain(wav: np.ndarray, db: float) -> np.ndarray:
    """Louder or quieter by `db` decibels, clipped to [-1, 1] as a real recording would be."""
    return np.clip(wav * 10 ** (db / 20), -1, 1).astype(np.float32)


def speed(wav: np.ndarray, factor: float) -> np.ndarray:
    """Played `factor` times faster (pitch and tempo together, as in speed perturbation):
    the result has len(wav) / factor samples."""
    import soxr
    return soxr.resample(wav, SR * factor, SR).astype(np.float32)


def augment(wav: np.ndarray, spec, rng: np.random.Generator) -> np.ndarray:
    """One random copy of `wav` by `spec` (ser.config.Augment): each step applies with its
    probability, in the order a signal meets them (speaker, room, noise, device, codec)."""
    if rng.random() < spec.speed_prob:
        wav = speed(wav, rng.uniform(*spec.speed))
    if rng.random() < spec.reverb_prob:
        wav = reverberate(wav, rng.uniform(*spec.rt60_s), rng)
    if rng.random() < spec.noise_prob:
        wav = add_noise(wav, rng.uniform(*spec.snr_db), rng, str(rng.choice(["white", "pink", "brown"])))
    wav = gain(wav, rng.uniform(*spec.gain_db))
    if rng.random() < spec.codec_prob:
        codec = str(rng.choice(list(CODECS)))
        wav = encode_decode(wav, codec, rng.uniform(*CODECS[codec][2]))
    return wav
