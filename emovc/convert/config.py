"""The schema of configs/detect.yaml: which model each stage of detect.py uses (the analysis
sections `ser`, `asr`, `text` are analysis.config's)."""
from dataclasses import dataclass, field
from typing import Annotated, Literal

from emovc.analysis.config import AsrConfig, SerConfig, TextConfig
from emovc.core.config import ExistingPath, Range


@dataclass
class TtsConfig:
    intensity: str | float = "normal"   # normal, strong, or 0..1 (see tts.parse_intensity)
    engine: str | None = None           # None: each voice's own engine (see tts/voices.yaml)
    voices: ExistingPath | None = None  # an extra voice table, same layout as tts/voices.yaml
    renderer: Literal["profile", "contour", "exemplar"] = "profile"   # synthesis: global profiles, emotion model, or exemplar bank
    keep_voice_renderer: Literal["profile", "contour", "exemplar"] = "exemplar"   # --keep-voice (docs/tts.md, Benchmark)


@dataclass
class CheckConfig:
    enabled: bool = True            # run SER and ASR on every output
    max_wer: Annotated[float, Range(0)] = 0.2       # warn above this word error rate


@dataclass
class BatchConfig:
    workers: Annotated[int | None, Range(1)] = None     # conversions at once on this machine; None: one per 4 cores
    scheduler: str | None = None    # or an existing Dask cluster: tcp://HOST:8786 (docs/scale.md)


@dataclass
class DetectConfig:
    ser: SerConfig
    asr: AsrConfig = field(default_factory=AsrConfig)
    tts: TtsConfig = field(default_factory=TtsConfig)
    check: CheckConfig = field(default_factory=CheckConfig)
    text: TextConfig = field(default_factory=TextConfig)
    batch: BatchConfig = field(default_factory=BatchConfig)
    min_duration_s: Annotated[float, Range(0, 60)] = 0.3     # shorter inputs are refused
    window_s: Annotated[float, Range(1, 600)] = 30.0          # longer inputs: keep-voice renders in windows cut at pauses
