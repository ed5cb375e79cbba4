"""The schema of configs/app.yaml: the models (detect.py's config) and the limits of app.py.
Every number has its range; live.asr_options are checked against the ASR backend by app.py."""
from dataclasses import dataclass, field
from typing import Annotated, Any

from emovc.core.config import ExistingPath, Range
from emovc.core.errors import ConfigError

POSITIVE = Range(0, low_open=True)


@dataclass
class UploadConfig:
    max_mb: Annotated[float, Range(0, 4096, low_open=True)] = 50.0         # bigger uploads are refused
                                                                            # before they are read whole
    max_duration_s: Annotated[float, Range(0, 86400, low_open=True)] = 1800.0  # longer recordings are
                                                                            # refused before they are decoded


@dataclass
class LiveConfig:
    update_s: Annotated[float, Range(0.1, 10)] = 1.0            # the page sends the microphone's audio this often
    emotion_window_s: Annotated[float, Range(0.5, 60)] = 3.0    # the emotion shown is that of the last this-many seconds
    segment_s: Annotated[float, Range(1, 60)] = 6.0             # the transcript is fixed in pieces of about this length
    max_chunk_s: Annotated[float, Range(0.1, 60)] = 10.0        # a longer chunk is refused (the page sends only the newest)
    asr_options: dict[str, Any] = field(default_factory=lambda: {"threads": 1, "beam_size": 1})
    # live mode's own ASR instance (the detect config's backend and model) with these options
    max_behind_s: float = 15.0          # untranscribed audio older than this is skipped (the page says so)
    max_rtf: float = 1.0                # a transcription slower than this times real time switches
    fallback_model: str | None = "tiny.en"  # live ASR to this faster model, once (null: never)

    def __post_init__(self):
        if self.max_chunk_s < self.update_s:
            raise ConfigError(f"key 'live.max_chunk_s' ({self.max_chunk_s:g}) is below 'live.update_s' "
                              f"({self.update_s:g}); every chunk would be refused")


@dataclass
class TimelineConfig:
    min_duration_s: Annotated[float, Range(0)] = 20.0       # recordings at least this long also get a timeline
                                                            # (in the detect config's SER windows: one analysis)


@dataclass
class AppConfig:
    detect: ExistingPath                # detect.py's config: the models of every stage
    upload: UploadConfig = field(default_factory=UploadConfig)
    live: LiveConfig = field(default_factory=LiveConfig)
    timeline: TimelineConfig = field(default_factory=TimelineConfig)
    session_ttl_s: Annotated[float, POSITIVE] = 3600.0      # an idle session's files are deleted after this
    max_sessions: Annotated[int, Range(1, 10_000)] = 32     # beyond this a new session is refused (503) ...
    evict_idle_s: Annotated[float, Range(0)] = 300.0        # ... unless one has been idle this long: it is closed
