"""The default backend: Whisper through faster-whisper (CTranslate2), int8 on CPU, fully offline."""
from dataclasses import dataclass
from typing import Iterable, Literal

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


@BACKENDS.register("whisper")
class WhisperASR(ASRModel):
    """Whisper 'base' (default), 'tiny.en', a faster-whisper folder, or a model in the HF cache."""
    Options = WhisperOptions
    default_model = "base"

    def __init__(self, model: str | None = None, language: str = "en", **options):
        super().__init__(model, language, **options)
        self.whisper = whisper_model(self.model, self.options.compute_type, self.options.threads)
        valid = self.whisper.supported_languages
        if self.language is not None and self.language not in valid:
            raise UserError(f"language {self.language!r} is not supported by Whisper {self.model!r}; "
                            f"choose auto or one of: {', '.join(valid)}")

    def recognise(self, windows: Iterable[Window], language: str | None) -> tuple[str | None, list[Segment]]:
        found = []
        for window in windows:   # the language detected in the first window holds for the rest
            segments, info = self.whisper.transcribe(window.audio, language=language,
                                                     beam_size=self.options.beam_size)
            length = len(window.audio) / SR
            found += [Segment(round(window.start + s.start, 2), round(window.start + min(s.end, length), 2),
                              s.text.strip()) for s in segments]
            language = info.language
        return language, found
