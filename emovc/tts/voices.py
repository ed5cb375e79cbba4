"""The voice table: voice name -> engine, speaker and the transforms that fit it to the person."""
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from emovc.core.config import load_config
from emovc.core.errors import ConfigError, UserError
from emovc.tts.engines import ENGINES

VOICES_FILE = Path(__file__).with_name("voices.yaml")


@dataclass(frozen=True)
class Voice:
    engine: str
    speaker: str | int | None = None   # Kokoro voice name, Piper speaker (multi-speaker voices)
    model: str | None = None           # Piper .onnx voice or Kokoro voices file; None: the bundled one
    pitch: float = 0.0                 # semitones
    formant: float = 1.0               # Praat "Change gender" formant shift ratio
    rate: float = 1.0                  # speaking-rate factor, > 1 faster
    engines: dict[str, str] = field(default_factory=dict)   # speaker to use with another engine
    language: str = "en"                                     # ISO 639-1 code of the language it speaks
    languages: dict[str, str] = field(default_factory=dict) # other language -> speaker of the same engine

    def speaker_for(self, language: str) -> str | int | None:
        """The speaker for `language`; UserError naming the languages this voice has."""
        if language == self.language:
            return self.speaker
        if language in self.languages:
            return self.languages[language]
        raise UserError(f"no voice for language {language!r}; this voice speaks "
                        f"{', '.join(sorted({self.language, *self.languages}))}; to speak English anyway, "
                        f"force it (detect.py: --set asr.language=en; tts: --language en)")


@dataclass
class VoiceTable:
    voices: dict[str, Voice]


def load_voices(path: str | Path) -> dict[str, Voice]:
    """Read and check a voice table (same layout as tts/voices.yaml); names become lower-case."""
    voices = load_config(path, VoiceTable).voices
    for name, v in voices.items():
        for engine in (v.engine, *v.engines):
            if engine not in ENGINES:
                raise ConfigError(f"{path}: voice {name!r} names unknown engine {engine!r}; "
                                  f"choose one of: {', '.join(ENGINES.names())}")
        if not (abs(v.pitch) <= 12 and 0.5 <= v.formant <= 2 and 0.5 <= v.rate <= 2):
            raise ConfigError(f"{path}: voice {name!r} needs |pitch| <= 12, formant and rate in 0.5..2")
    return {name.lower(): v for name, v in voices.items()}


VOICES: Mapping[str, Voice] = MappingProxyType(load_voices(VOICES_FILE))     # the shipped table, read-only


def with_voices(path: str | Path | None, base: Mapping[str, Voice] = VOICES) -> Mapping[str, Voice]:
    """`base` plus (or with replaced) the voices of a user's table; `base` itself is not changed."""
    return MappingProxyType({**base, **load_voices(path)}) if path else base


def voice_names(voices: Mapping[str, Voice] = VOICES) -> list[str]:
    return sorted(voices)


def get_voice(name: str, voices: Mapping[str, Voice] = VOICES) -> Voice:
    try:
        return voices[str(name).strip().lower()]
    except KeyError:
        raise UserError(f"unknown voice {name!r}; choose one of: {', '.join(voice_names(voices))}") from None
