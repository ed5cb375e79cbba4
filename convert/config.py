"""The schema of configs/detect.yaml: which model each stage of detect.py uses."""
from dataclasses import dataclass, field
from typing import Annotated, Literal

from core.config import ExistingPath, Range
from core.errors import ConfigError


@dataclass
class SerConfig:
    config: ExistingPath            # SER experiment config (or checkpoint folder) of the recogniser
    window_s: Annotated[float, Range(1, 60)] = 4.0      # SER reads the input in windows of about this length, cut at pauses
    normalise: Literal["none", "recording"] = "none"   # "recording": standardise a long input's windows together
    normalise_min_windows: Annotated[int, Range(2)] = 5    # ... when it has at least this many windows of speech
    uncertain_below: float | None = None    # top probability under this: 'uncertain' (None: the model's own)
    adapt: bool = True              # live mode and timelines learn the speaker as they go (ser/adapt.py);
                                    # detect.py's inputs are classified alone

    def __post_init__(self):
        if self.uncertain_below is not None and not 0 <= self.uncertain_below < 1:
            raise ConfigError(f"key 'ser.uncertain_below' is {self.uncertain_below}; choose 0 (never) to below 1")


@dataclass
class AsrConfig:
    backend: str = "whisper"
    model: str = "base"
    language: str = "auto"          # detect the language (the voice then speaks it), or a code such as en


@dataclass
class TtsConfig:
    intensity: str | float = "normal"   # normal, strong, or 0..1 (see tts.parse_intensity)
    engine: str | None = None           # None: each voice's own engine (see tts/voices.yaml)
    voices: ExistingPath | None = None  # an extra voice table, same layout as tts/voices.yaml
    renderer: Literal["profile", "contour"] = "profile"   # the global profiles, or the learned emotion model


@dataclass
class CheckConfig:
    enabled: bool = True            # run SER and ASR on every output
    max_wer: Annotated[float, Range(0)] = 0.2       # warn above this word error rate


@dataclass
class TextConfig:
    enabled: bool = True            # the transcript's emotion (text_emotion, fused_emotion in the report)
    model: str = "nrc"              # see ser/text.py: the NRC Emotion Lexicon
    weight: Annotated[float, Range(0, 1)] = 0.0     # late fusion: (1 - weight) * voice + weight * text; 0 =
                                    # learned on the shared corpora (bench/fusion_bench.py, docs/analysis.md)


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
