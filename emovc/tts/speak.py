"""Text + emotion + voice -> waveform: front end, engine, voice transforms, emotion rendering,
sentence by sentence."""
from collections.abc import Iterator, Mapping

import numpy as np

from emovc.core.errors import UserError
from emovc.core.labels import normalise_emotion
from emovc.tts.contours import OUTPUTS, PITCH_CEILING, PITCH_FLOOR, speech_span
from emovc.tts.engines import load_engine
from emovc.tts.profiles import Prosody, parse_intensity, profile
from emovc.tts.render import check_renderer, edit_source, render_emotion, spectral_gain
from emovc.tts.text import prepare
from emovc.tts.voices import VOICES, Voice, get_voice

SENTENCE_PAUSE = 0.3      # s of silence between sentences at rate 1
LEVEL = -26.0             # dBFS RMS of the active speech before the emotion's energy change


def synthesize(text: str, emotion: str = "neutral", voice: str = "youngwoman",
               intensity: str | float = "normal", engine: str | None = None,
               language: str = "en", renderer: str = "profile",
               voices: Mapping[str, Voice] = VOICES) -> tuple[np.ndarray, int]:
    """Speak `text` (in `language`, ISO 639-1) with `emotion` in `voice`; returns (float32 mono
    waveform, sample rate).

    `intensity`: see `parse_intensity`. `engine` overrides the voice's own engine with one
    listed under its `engines` (e.g. emotivoice). Engines with `prosody_inside` (Kokoro) render
    the emotion inside the synthesis: with `renderer` `profile` (default) the emotion's global
    profile; with `contour` the emotion model's frame-by-frame timing and pitch, then its energy and
    voice quality. The other engines get `render_emotion` with the profile. `voices`: the voice
    table `voice` is looked up in (the shipped one, or `with_voices(user_table)`).
    """
    chunks, sr = synthesize_stream(text, emotion, voice, intensity, engine, language, renderer, voices)
    return np.concatenate(list(chunks)), sr


def synthesize_stream(text: str, emotion: str = "neutral", voice: str = "youngwoman",
                      intensity: str | float = "normal", engine: str | None = None,
                      language: str = "en", renderer: str = "profile",
                      voices: Mapping[str, Voice] = VOICES) -> tuple[Iterator[np.ndarray], int]:
    """`synthesize`, sentence by sentence: (an iterator of float32 chunks, sample rate).

    Names and text are checked and the engine loaded at the call; each sentence is spoken,
    fitted to the voice, levelled and rendered only when the iterator reaches it, so memory
    does not grow with the text. The iterator raises a UserError at its end if no sentence
    made a sound.
    """
    emotion, spec, intensity = normalise_emotion(emotion), get_voice(voice, voices), parse_intensity(intensity)
    language = str(language).strip().lower()
    name, speaker, model = resolve_engine(voice, engine, language, voices)
    check_renderer(renderer)
    sentences = prepare(text, language)
    tts = load_engine(name, model)
    native = emotion in tts.native_emotions
    inside = getattr(tts, "prosody_inside", False) and not native
    contour = inside and renderer != "profile" and emotion != "neutral" and intensity > 0
    prosody = Prosody() if native else profile(emotion, intensity)
    own = name == spec.engine
    rate = spec.rate * (1.0 if inside else prosody.rate)
    extra = {"prosody": prosody, "pitch": spec.pitch if own else 0.0} if inside else {}
    levels = []                 # the emotion model's mean energy change of each sentence, dB
    if contour:
        prosody = Prosody(rate=prosody.rate)          # only the sentence pause keeps the profile's rate
        extra = {"pitch": spec.pitch if own else 0.0, "contour_edit": _contour_edit(emotion, intensity, levels, renderer)}
    pause = np.zeros(int(SENTENCE_PAUSE / (spec.rate * prosody.rate) * tts.sample_rate), np.float32)

    def chunks() -> Iterator[np.ndarray]:
        sound = False
        for i, sentence in enumerate(sentences):
            if i:
                yield pause
            wav = tts(sentence, speaker, rate, emotion, language, **extra)
            if np.any(np.abs(wav) > 1e-4):
                sound = True
                if own:
                    wav = _fit_voice(wav, tts.sample_rate, 0.0 if inside else spec.pitch, spec.formant)
                wav = _level(wav)
                if contour:
                    wav = spectral_gain(wav, tts.sample_rate, levels[-1], 0.0)
                elif inside:
                    wav = spectral_gain(wav, tts.sample_rate, prosody.energy, prosody.tilt)
                elif not native:
                    wav = render_emotion(wav, tts.sample_rate, emotion, intensity, change_rate=False, renderer="profile")
            yield wav.astype(np.float32)
        if not sound:
            raise UserError(f"the {name} engine produced no sound for {text!r}; give words it can read")
    return chunks(), tts.sample_rate


def _contour_edit(emotion: str, intensity: float, levels: list[float], renderer: str):
    """The emotion model or the exemplar bank (`renderer`) as the engine's `contour_edit`; each
    sentence's mean energy change over its speech goes to `levels` (the level itself is set after
    the voice is levelled)."""
    model = edit_source(renderer)

    def edit(f0: np.ndarray, energy: np.ndarray) -> np.ndarray:
        changes = model.edit(f0, energy, emotion, intensity)
        start, end = speech_span(energy)
        levels.append(float(changes[start:end, OUTPUTS.index("energy")].mean()) if end > start else 0.0)
        return changes
    return edit


def resolve_engine(voice: str, engine: str | None = None, language: str | None = "en",
                   voices: Mapping[str, Voice] = VOICES) -> tuple[str, str | int | None, str | None]:
    """(engine name, speaker, model) that speak `voice` in `language`, `engine` overriding the
    voice's own; a UserError when the voice has no speaker for that language or engine (checked
    before anything loads). `language` None: the language is not known yet, only the engine is checked."""
    spec = get_voice(voice, voices)
    speaker = spec.speaker if language is None else spec.speaker_for(str(language).strip().lower())
    if not engine or engine.lower() == spec.engine:
        return spec.engine, speaker, spec.model
    if engine.lower() not in spec.engines:
        raise UserError(f"voice {voice!r} has no speaker for engine {engine!r}; it has: "
                        f"{', '.join([spec.engine, *spec.engines])}")
    return engine.lower(), spec.engines[engine.lower()], None


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
