"""The speech-to-text interface: one call from a path or a waveform to a `Transcript`.

Backends live in the `BACKENDS` registry; each turns speech windows (see `asr.windows`) into
timed text. Input with no speech gives an empty transcript and a `NoSpeechWarning` (a Python
`warnings` warning), never an exception.
"""
import dataclasses
import os
import warnings
from dataclasses import dataclass, field
from typing import Iterable

import numpy as np

from emovc.core.config import from_dict
from emovc.core.registry import Registry
from emovc.asr.windows import Window, speech_windows
from emovc.core.audio import SR, Source

BACKENDS: Registry = Registry("ASR backend")


class NoSpeechWarning(UserWarning):
    """The input held no recognisable speech; its transcript is empty."""


@dataclass(frozen=True)
class Segment:
    start: float    # seconds
    end: float
    text: str


@dataclass
class Transcript:
    text: str
    language: str                       # ISO 639-1 code; '' when no speech was found with --language auto
    segments: list[Segment] = field(default_factory=list)
    duration: float = 0.0               # seconds of input audio

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass
class NoOptions:
    """A backend without settings."""


class ASRModel:
    """Base of every backend: windows the input, recognises each window, assembles the result.

    Subclasses set `Options` (a dataclass of backend settings, validated like a config) and
    implement `recognise(windows, language) -> (language, segments)`, segment times counted
    from the start of the input; `language` None asks the backend to detect it.
    """
    Options: type = NoOptions
    default_model: str = ""

    def __init__(self, model: str | None = None, language: str = "en", **options):
        self.model = model or self.default_model
        self.options = from_dict(self.Options, options, f"{type(self).__name__} options")
        self.language = None if language == "auto" else language

    def recognise(self, windows: Iterable[Window], language: str | None) -> tuple[str | None, list[Segment]]:
        raise NotImplementedError

    def transcribe(self, audio: str | os.PathLike | np.ndarray, sr: int = SR) -> Transcript:
        """Transcribe a file, or a mono float waveform at `sr` Hz (16 kHz unless told)."""
        source = Source(audio, sr)
        language, segments = self.recognise(speech_windows(source), self.language)
        segments = [s for s in segments if s.text]
        text = " ".join(s.text for s in segments)
        if not text:
            warnings.warn(f"{source.name}: no speech recognised; the transcript is empty", NoSpeechWarning,
                          stacklevel=2)
        return Transcript(text, language or "", segments, round(source.duration, 3))


def check_options(backend: str, options: dict, source: str, prefix: str = "options.") -> None:
    """Validate `options` for `backend` as loading it would, without loading a model (ConfigError)."""
    from_dict(BACKENDS.get(backend).Options, options, source, prefix)


def load_asr(backend: str = "whisper", model: str | None = None, language: str = "en", **options) -> ASRModel:
    """Load a backend once; `options` are its settings (e.g. beam_size=5 for Whisper)."""
    return BACKENDS.get(backend)(model, language, **options)


def transcribe(audio: str | os.PathLike | np.ndarray, backend: str = "whisper", model: str | None = None,
               language: str = "en", **options) -> Transcript:
    """One-shot convenience: load the backend (cached for Whisper) and transcribe `audio`."""
    return load_asr(backend, model, language, **options).transcribe(audio)
