"""The schema of configs/detect.yaml: which model each stage of detect.py uses."""
from dataclasses import dataclass, field
from typing import Annotated, Literal

from core.config import ExistingPath, Range


@dataclass
class SerConfig:
    config: ExistingPath            # SER experiment config (or checkpoint folder) of the recogniser
    window_s: Annotated[float, Range(1, 60)] = 4.0      # SER reads the input in windows of about this length, cut at pauses
    normalise: Literal["none", "recording"] = "recording"   # standardise a long input's windows together
    normalise_min_windows: Annotated[int, Range(2)] = 5    # ... when it has at least this many windows of speech


@dataclass
class AsrConfig:
    backend: str = "whisper"
    model: str = "base"
    language: str = "en"            # 'auto' detects the language


@dataclass
class TtsConfig:
    intensity: str | float = "normal"   # normal, strong, or 0..1 (see tts.parse_intensity)
    engine: str | None = None           # None: each voice's own engine (see tts/voices.yaml)
    voices: ExistingPath | None = None  # an extra voice table, same layout as tts/voices.yaml


@dataclass
class CheckConfig:
    enabled: bool = True            # run SER and ASR on every output
    max_wer: Annotated[float, Range(0)] = 0.2       # warn above this word error rate


@dataclass
class DetectConfig:
    ser: SerConfig
    asr: AsrConfig = field(default_factory=AsrConfig)
    tts: TtsConfig = field(default_factory=TtsConfig)
    check: CheckConfig = field(default_factory=CheckConfig)
    min_duration_s: Annotated[float, Range(0, 60)] = 0.3     # shorter inputs are refused
    window_s: Annotated[float, Range(1, 600)] = 30.0          # longer inputs: keep-voice renders in windows cut at pauses
