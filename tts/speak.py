"""Text + emotion + voice -> waveform: front end, engine, voice transforms, emotion rendering."""
import numpy as np

from core.errors import UserError
from core.labels import normalise_emotion
from tts.engines import load_engine
from tts.render import PITCH_CEILING, PITCH_FLOOR, Prosody, parse_intensity, profile, render_emotion, spectral_gain
from tts.text import prepare
from tts.voices import get_voice

SENTENCE_PAUSE = 0.3      # s of silence between sentences at rate 1
LEVEL = -26.0             # dBFS RMS of the active speech before the emotion's energy change


def synthesize(text: str, emotion: str = "neutral", voice: str = "youngwoman",
               intensity: str | float = "normal", engine: str | None = None,
               language: str = "en") -> tuple[np.ndarray, int]:
    """Speak `text` (in `language`, ISO 639-1) with `emotion` in `voice`; returns (float32 mono
    waveform, sample rate).

    `intensity`: see `parse_intensity`. `engine` overrides the voice's own engine with one
    listed under its `engines` (e.g. emotivoice). Engines with `prosody_inside` (Kokoro) render
    the emotion's timing, F0 and energy inside the synthesis; the others get `render_emotion`.
    """
    emotion, spec, intensity = normalise_emotion(emotion), get_voice(voice), parse_intensity(intensity)
    language = str(language).strip().lower()
    name, speaker, model = spec.engine, spec.speaker_for(language), spec.model
    sentences = prepare(text, language)
    if engine and engine.lower() != spec.engine:
        if engine.lower() not in spec.engines:
            raise UserError(f"voice {voice!r} has no speaker for engine {engine!r}; it has: "
                            f"{', '.join([spec.engine, *spec.engines])}")
        name, speaker, model = engine.lower(), spec.engines[engine.lower()], None
    tts = load_engine(name, model)
    native = emotion in tts.native_emotions
    inside = getattr(tts, "prosody_inside", False) and not native
    prosody = Prosody() if native else profile(emotion, intensity)
    own = name == spec.engine
    rate = spec.rate * (1.0 if inside else prosody.rate)
    extra = {"prosody": prosody, "pitch": spec.pitch if own else 0.0} if inside else {}
    pause = np.zeros(int(SENTENCE_PAUSE / (spec.rate * prosody.rate) * tts.sample_rate), np.float32)
    parts = []
    for sentence in sentences:
        parts += [tts(sentence, speaker, rate, emotion, language, **extra), pause]
    wav = np.concatenate(parts[:-1])
    if not np.any(np.abs(wav) > 1e-4):
        raise UserError(f"the {name} engine produced no sound for {text!r}; give words it can read")
    if own:
        wav = _fit_voice(wav, tts.sample_rate, 0.0 if inside else spec.pitch, spec.formant)
    wav = _level(wav)
    if inside:
        wav = spectral_gain(wav, tts.sample_rate, prosody.energy, prosody.tilt)
    elif not native:
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
