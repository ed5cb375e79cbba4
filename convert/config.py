"""The schema of configs/detect.yaml: which model each stage of detect.py uses."""
from dataclasses import dataclass, field

from core.config import ExistingPath


@dataclass
class SerConfig:
    config: ExistingPath            # SER experiment config (or checkpoint folder) of the recogniser


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
    max_wer: float = 0.2            # warn above this word error rate


@dataclass
class TextConfig:
    enabled: bool = True            # the transcript's emotion (text_emotion, fused_emotion in the report)
    model: str = "nrc"              # see ser/text.py: the NRC Emotion Lexicon
    weight: float = 0.0             # late fusion: (1 - weight) * voice + weight * text; 0 = learned
                                    # on the shared corpora (bench/fusion_bench.py, docs/analysis.md)


@dataclass
class DetectConfig:
    ser: SerConfig
    asr: AsrConfig = field(default_factory=AsrConfig)
    tts: TtsConfig = field(default_factory=TtsConfig)
    check: CheckConfig = field(default_factory=CheckConfig)
    text: TextConfig = field(default_factory=TextConfig)
    min_duration_s: float = 0.3     # shorter inputs are refused
    window_s: float = 30.0          # longer inputs: SER and keep-voice work in windows cut at pauses
