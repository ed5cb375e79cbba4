"""Text + emotion + voice -> waveform: front end, engine, voice transforms, emotion rendering."""
import numpy as np

from core.errors import UserError
from core.labels import normalise_emotion
from tts.engines import load_engine
from tts.render import PITCH_CEILING, PITCH_FLOOR, parse_intensity, profile, render_emotion
from tts.text import prepare
from tts.voices import get_voice

SENTENCE_PAUSE = 0.3      # s of silence between sentences at rate 1
LEVEL = -26.0             # dBFS RMS of the active speech before the emotion's energy change


def synthesize(text: str, emotion: str = "neutral", voice: str = "youngwoman",
               intensity: str | float = "normal", engine: str | None = None) -> tuple[np.ndarray, int]:
    """Speak `text` with `emotion` in `voice`; returns (float32 mono waveform, sample rate).

    `intensity`: see `parse_intensity`. `engine` overrides the voice's own engine with one
    listed under its `engines` (e.g. emotivoice).
    """
    emotion, spec, intensity = normalise_emotion(emotion), get_voice(voice), parse_intensity(intensity)
    sentences = prepare(text)
    name, speaker, model = spec.engine, spec.speaker, spec.model
    if engine and engine.lower() != spec.engine:
        if engine.lower() not in spec.engines:
            raise UserError(f"voice {voice!r} has no speaker for engine {engine!r}; it has: "
                            f"{', '.join([spec.engine, *spec.engines])}")
        name, speaker, model = engine.lower(), spec.engines[engine.lower()], None
    tts = load_engine(name, model)
    native = emotion in tts.native_emotions
    rate = spec.rate * (1.0 if native else profile(emotion, intensity).rate)
    pause = np.zeros(int(SENTENCE_PAUSE / rate * tts.sample_rate), np.float32)
    parts = []
    for sentence in sentences:
        parts += [tts(sentence, speaker, rate, emotion), pause]
    wav = np.concatenate(parts[:-1])
    if not np.any(np.abs(wav) > 1e-4):
        raise UserError(f"the {name} engine produced no sound for {text!r}; give words it can read")
    if name == spec.engine:
        wav = _fit_voice(wav, tts.sample_rate, spec.pitch, spec.formant)
    wav = _level(wav)
    if not native:
        wav = render_emotion(wav, tts.sample_rate, emotion, intensity, change_rate=False)
    return wav.astype(np.float32), tts.sample_rate


def _fit_voice(wav: np.ndarray, sr: int, pitch: float, formant: float) -> np.ndarray:
    """Praat "Change gender": shift the pitch median by `pitch` semitones, formants by `formant`."""
    if pitch == 0 and formant == 1:
        return wav
    import parselmouth
    from parselmouth.praat import call
    sound = parselmouth.Sound(wav.astype(np.float64), sampling_frequency=sr)
    f0 = sound.to_pitch(pitch_floor=PITCH_FLOOR, pitch_ceiling=PITCH_CEILING).selected_array["frequency"]
    median = float(np.median(f0[f0 > 0])) * 2 ** (pitch / 12) if pitch and np.any(f0 > 0) else 0.0
    changed = call(sound, "Change gender", PITCH_FLOOR, PITCH_CEILING, formant, median, 1.0, 1.0)
    return changed.values[0].astype(np.float32)


def _level(wav: np.ndarray) -> np.ndarray:
    """Scale so the speech (20 ms frames within 35 dB of the loudest) sits at LEVEL dBFS RMS."""
    frames = wav[: len(wav) // 320 * 320].reshape(-1, 320)
    power = (frames.astype(np.float64) ** 2).mean(axis=1) + 1e-12
    active = power[power > power.max() * 10 ** -3.5]
    return wav * np.float32(10 ** (LEVEL / 20) / np.sqrt(active.mean()))
