"""What is in a recording: the voice's emotion (windowed, calibrated, maybe `uncertain`), the
transcript with its timing and language, the words' emotion and the fusion of both, and for long
recordings a timeline. `Analyzer.analyse` is the one way every entry point answers it
(detect.py, predict.py's windows, timeline.py, the app and its live mode), so one recording gets
one label everywhere.

    from emovc.analysis import Analyzer
    analyzer = Analyzer(load_config("configs/detect.yaml", DetectConfig))
    a = analyzer.analyse("talk.wav")            # timeline=True adds the emotion over time
    a.emotion, a.transcript.text, a.text, a.fused, a.to_dict()
"""
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from emovc.analysis.timeline import timeline_of
from emovc.asr import NoSpeechWarning, load_asr
from emovc.core.audio import Reader, Source
from emovc.core.errors import UserError
from emovc.core.labels import Prediction
from emovc.ser import load_recognizer
from emovc.ser.text import fuse, load_text_model, text_emotion


@dataclass
class Analysis:
    """One recording's analysis; `emotion` is None when it holds no speech, `transcript` None when
    it was not asked for (or failed where optional), `timeline` None unless asked for."""
    source: str
    duration: float
    emotion: Prediction | None
    transcript: object = None           # asr.Transcript
    text: Prediction | None = None      # the words' emotion
    fused: Prediction | None = None     # voice and words together
    timeline: object = None             # analysis.timeline.Timeline

    def to_dict(self) -> dict:
        """As every JSON output gives it (the timeline apart: it has its own `to_dict`)."""
        shown = lambda p: None if p is None else p.to_dict()
        t = self.transcript
        return {"duration_s": round(self.duration, 3), "detected_emotion": shown(self.emotion),
                "text_emotion": shown(self.text), "fused_emotion": shown(self.fused),
                "transcript": None if t is None else t.text, "language": None if t is None else t.language}


class Analyzer:
    """Holds the recognisers of a config with `ser`, `asr` and `text` sections (analysis.config;
    detect.py's and the app's configs have them); each loads once, on first use."""

    def __init__(self, config, say: Callable[[str], None] = lambda message: None):
        self.config, self.say = config, say
        self.recognizer = self.asr = None

    def load(self, asr: bool = True) -> None:
        """Load the models not loaded yet (the ASR only when `asr`)."""
        if self.recognizer is None:
            self.say(f"loading emotion recogniser ({self.config.ser.config})…")
            self.recognizer = load_recognizer(self.config.ser.config)
            if self.config.ser.uncertain_below is not None:
                self.recognizer.uncertain_below = self.config.ser.uncertain_below
        if self.config.text.enabled:
            load_text_model(self.config.text.model)      # a few ms; an unknown name fails here
        if asr and self.asr is None:
            cfg = self.config.asr
            self.say(f"loading speech recogniser ({cfg.backend} {cfg.model})…")
            self.asr = load_asr(backend=cfg.backend, model=cfg.model, language=cfg.language)

    def analyse(self, audio: str | Path | np.ndarray, *, words: bool = True, optional_words: bool = False,
                timeline: bool = False, lap: Callable[[str], None] = lambda stage: None) -> Analysis:
        """Analyse a file (read block by block) or a 16 kHz waveform. `words`: transcribe, and read
        the words' emotion (`optional_words`: a failing ASR is noted, not raised); `timeline`: also
        the emotion over time, in the same windows as the recording's emotion (SER runs once).
        `lap(stage)` is called as each stage ends ('load_models', 'ser', 'asr', 'text')."""
        reader = Reader(Source(audio))
        reader.ensure(1)                # a missing, empty or corrupt file fails here, before models load
        self.load(asr=words or timeline)
        lap("load_models")
        name = "audio" if isinstance(audio, np.ndarray) else str(audio)
        if timeline:
            t = timeline_of(self, reader, name, text=words, progress=False)
            lap("ser")
            transcript, recognition, duration = t.transcript, t.recognition, t.duration
        else:
            self.say("recognising the emotion…")
            recognition = self.recognise(reader)
            reader.finish()
            duration = reader.duration
            lap("ser")
            if words:
                self.say("transcribing…")
            transcript = self.transcribe(audio, optional=optional_words) if words else None
            t = None
        lap("asr")
        text, fused = self.read_words(transcript.text if transcript else "", recognition.overall)
        lap("text")
        return Analysis(name, duration, recognition.overall, transcript, text, fused, t)

    def recognise(self, audio, adapter=None):
        """The recogniser's windows and overall emotion (`ser.Recognition`) of a file, a 16 kHz
        waveform or a `core.audio.Reader`, in the config's windows (`adapter`: as part of a session)."""
        cfg = self.config.ser
        return self.recognizer.recognise(audio, cfg.window_s, cfg.hop_s,
                                         cfg.normalise_min_windows if cfg.normalise == "recording" else None,
                                         adapter)

    def emotion(self, audio, adapter=None) -> Prediction | None:
        """The voice's emotion of a file or a 16 kHz waveform; None when it holds no speech.
        `adapter` (from `session_adapter`): the audio is the next part of that session."""
        return self.recognise(audio, adapter).overall

    def session_adapter(self):
        """A new `ser.adapt.SessionAdapter` for one live stream or one timeline; None with
        `ser.adapt` off."""
        if not self.config.ser.adapt:
            return None
        self.load(asr=False)
        return self.recognizer.session_adapter()

    def transcribe(self, audio: str | Path | np.ndarray, optional: bool = False):
        """ASR (a file is streamed in blocks); '' for no speech. With `optional`, a failure is noted
        and None returned."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", NoSpeechWarning)    # an empty text says it already
                return self.asr.transcribe(audio)
        except UserError as e:
            if not optional:
                raise
            self.say(f"note: no transcript ({e})")
            return None

    def read_words(self, words: str, voice: Prediction | None):
        """The emotion of the words and its fusion with the voice's; (None, None) when the config
        turns it off or there are no words (fused is None too without a voice prediction)."""
        if not self.config.text.enabled or not words.strip():
            return None, None
        text = text_emotion(words, self.config.text.model)
        return text, None if voice is None else fuse(voice, text, self.config.text.weight,
                                                     self.recognizer.uncertain_below)

    def text_language(self) -> str:
        """The language of words given as text: the configured ASR language, English when 'auto'."""
        return "en" if self.config.asr.language == "auto" else self.config.asr.language
