"""The default backend: Whisper through faster-whisper (CTranslate2), int8 on CPU, fully offline."""
from dataclasses import dataclass
from typing import Iterable, Literal

import numpy as np

from emovc.core.errors import UserError
from emovc.core.weights import whisper_model
from emovc.asr.transcribe import BACKENDS, ASRModel, Segment
from emovc.asr.windows import Window
from emovc.core.audio import SR


@dataclass
class WhisperOptions:
    beam_size: int = 5
    compute_type: Literal["int8", "int8_float32", "int16", "float32"] = "int8"   # CTranslate2 on CPU
    threads: int = 0                # 0: one per available core, at most 4


class LastEncoding:
    """A WhisperModel's `encode` that answers a repeat of its last input from memory.

    Detecting the language and then transcribing encodes the same 30-s window twice, and the
    encoder is most of the ASR stage's time (about 1 s of a 4-s clip's 1.8 s on 2 cores).
    `forget()` after each window: only that repeat is saved, never a later call's work.
    """

    def __init__(self, encode):
        self.encode, self.last = encode, None

    def __call__(self, features: np.ndarray):
        last = self.last                    # one read: another thread may replace it meanwhile
        if last is not None and last[0].shape == features.shape and np.array_equal(last[0], features):
            return last[1]
        encoded = self.encode(features)
        self.last = (features.copy(), encoded)
        return encoded

    def forget(self) -> None:
        self.last = None


@BACKENDS.register("whisper")
class WhisperASR(ASRModel):
    """Whisper 'base' (default), 'tiny.en', a faster-whisper folder, or a model in the HF cache."""
    Options = WhisperOptions
    default_model = "base"

    def __init__(self, model: str | None = None, language: str = "en", **options):
        super().__init__(model, language, **options)
        self.whisper = whisper_model(self.model, self.options.compute_type, self.options.threads)
        if not isinstance(self.whisper.encode, LastEncoding):
            self.whisper.encode = LastEncoding(self.whisper.encode)
        valid = self.whisper.supported_languages
        if self.language is not None and self.language not in valid:
            raise UserError(f"language {self.language!r} is not supported by Whisper {self.model!r}; "
                            f"choose auto or one of: {', '.join(valid)}")

    def detect_language(self, audio: np.ndarray) -> str:
        """The language of a window of at most 30 s, from the very encoding `transcribe` reuses.

        The first segment is cut as faster-whisper's `generate_segments` cuts it (its last
        feature frame dropped); its own `detect_language` keeps that frame, so it would miss.
        """
        if not self.whisper.model.is_multilingual:
            return "en"
        from faster_whisper.audio import pad_or_trim
        extractor = self.whisper.feature_extractor
        features = extractor(audio)
        first = pad_or_trim(features[:, :min(features.shape[-1] - 1, extractor.nb_max_frames)])
        (token, _), *_ = self.whisper.model.detect_language(self.whisper.encode(first))[0]
        return token[2:-2]

    def recognise(self, windows: Iterable[Window], language: str | None) -> tuple[str | None, list[Segment]]:
        found = []
        for window in windows:   # the language detected in the first window holds for the rest
            language = language or self.detect_language(window.audio)
            segments, _ = self.whisper.transcribe(window.audio, language=language,
                                                  beam_size=self.options.beam_size)
            length = len(window.audio) / SR
            found += [Segment(round(window.start + s.start, 2), round(window.start + min(s.end, length), 2),
                              s.text.strip()) for s in segments]
            self.whisper.encode.forget()
        return language, found
