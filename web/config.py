"""The schema of configs/app.yaml: the models (detect.py's config) and the limits of app.py."""
from dataclasses import dataclass, field
from typing import Any

from core.config import ExistingPath


@dataclass
class UploadConfig:
    max_mb: float = 50.0                # bigger uploads are refused before they are read whole
    max_duration_s: float = 1800.0      # longer recordings are refused before they are decoded


@dataclass
class LiveConfig:
    update_s: float = 1.0               # the page sends the microphone's audio this often
    emotion_window_s: float = 3.0       # the emotion shown is that of the last this-many seconds
    segment_s: float = 6.0              # the transcript is fixed in pieces of about this length
    max_chunk_s: float = 10.0           # a longer chunk is refused (the page sends only the newest)
    asr_options: dict[str, Any] = field(default_factory=lambda: {"threads": 1, "beam_size": 1})
    # live mode's own ASR instance (the detect config's backend and model) with these options
    max_behind_s: float = 15.0          # untranscribed audio older than this is skipped (the page says so)
    max_rtf: float = 1.0                # a transcription slower than this times real time switches
    fallback_model: str | None = "tiny.en"  # live ASR to this faster model, once (null: never)


@dataclass
class TimelineConfig:
    min_duration_s: float = 20.0        # recordings at least this long also get a timeline
    window_s: float = 4.0               # convert/timeline.py's windows
    hop_s: float = 2.0


@dataclass
class AppConfig:
    detect: ExistingPath                # detect.py's config: the models of every stage
    upload: UploadConfig = field(default_factory=UploadConfig)
    live: LiveConfig = field(default_factory=LiveConfig)
    timeline: TimelineConfig = field(default_factory=TimelineConfig)
    session_ttl_s: float = 3600.0       # an idle session's files are deleted after this
    max_sessions: int = 32              # beyond this the longest-idle session is closed
