"""The schema of the analysis sections of configs/detect.yaml (`ser`, `asr`, `text`): the models
that answer what is in a recording, for every entry point."""
from dataclasses import dataclass
from typing import Annotated, Literal

from emovc.core.config import ExistingPath, Range
from emovc.core.errors import ConfigError
from emovc.ser.recognizer import HOP_S, WINDOW_S


@dataclass
class SerConfig:
    config: ExistingPath            # SER experiment config (or checkpoint folder) of the recogniser
    window_s: Annotated[float, Range(1, 60)] = WINDOW_S  # SER reads a recording in windows of about this length,
    hop_s: Annotated[float, Range(0, 60, low_open=True)] = HOP_S   # starting this often, edges cut at pauses
    normalise: Literal["none", "recording"] = "none"   # "recording": standardise a long input's windows together
    normalise_min_windows: Annotated[int, Range(2)] = 5    # ... when it has at least this many windows of speech
    uncertain_below: float | None = None    # top probability under this: 'uncertain' (None: the model's own)
    adapt: bool = False             # live mode and timeline rows learn the speaker as they go (ser/adapt.py;
                                    # off: its targets are not met, docs/ser.md); a recording's emotion never does

    def __post_init__(self):
        if self.uncertain_below is not None and not 0 <= self.uncertain_below < 1:
            raise ConfigError(f"key 'ser.uncertain_below' is {self.uncertain_below}; choose 0 (never) to below 1")
        if self.hop_s > self.window_s:
            raise ConfigError(f"key 'ser.hop_s' ({self.hop_s:g}) is above 'ser.window_s' ({self.window_s:g}); "
                              f"need 0 < hop <= window")


@dataclass
class AsrConfig:
    backend: str = "whisper"
    model: str = "base"
    language: str = "auto"          # detect the language (the voice then speaks it), or a code such as en


@dataclass
class TextConfig:
    enabled: bool = True            # the transcript's emotion (text_emotion, fused_emotion in the report)
    model: str = "nrc"              # see ser/text.py: the NRC Emotion Lexicon
    weight: Annotated[float, Range(0, 1)] = 0.0     # late fusion: (1 - weight) * voice + weight * text; 0 =
                                    # learned on the shared corpora (bench/fusion_bench.py, docs/analysis.md)
