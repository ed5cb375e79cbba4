"""Live mode: microphone audio arrives in chunks; the emotion of the last few seconds and a
growing transcript come back.

The emotion is recognised on every chunk (fast). The transcript is recognised in the
background by its own ASR model instance (its own CTranslate2 model and thread, so the SER's
Whisper encoder never waits behind it): the audio not yet fixed is re-transcribed as it
grows, and once it is longer than `segment_s` it is cut at its quietest point and the part
before the cut is fixed. Memory is bounded: only the last `emotion_window_s` and the unfixed
part (about `segment_s`) are kept, and the fixed text.

On a machine too slow to keep up the transcript degrades instead of stalling: the chunks that
arrive while a transcription runs are merged into the next one; unfixed audio older than
`max_behind_s` is skipped (the transcript shows "…" there and the state says how much); and
`LiveAsr` switches once to a faster model when a transcription runs slower than `max_rtf` times
real time. The emotion never waits for any of it.
"""
import threading
import time
import warnings
from concurrent.futures import Executor, Future

import numpy as np

from emovc.asr import NoSpeechWarning
from emovc.core.audio import SR, quietest
from emovc.core.errors import UserError

MAX_WORDS = 2000        # the transcript keeps this many words at most (the newest)
SKIPPED = "…"           # in the transcript where audio was skipped, not transcribed
MIN_RTF_S = 1.0         # transcriptions of less audio than this do not judge the speed (fixed costs)
STOP_WAIT_S = 10.0      # Stop waits at most this long for the last words; the rest counts as skipped


class LiveAsr:
    """Live mode's ASR model, shared by the streams (used from one thread): `load(name)` makes
    one; when a transcription of at least MIN_RTF_S runs slower than `max_rtf` times real time,
    the `fallback` model (e.g. tiny.en) replaces it, once."""

    def __init__(self, load, model: str, fallback: str | None = None, max_rtf: float = 1.0):
        self.load, self.fallback, self.max_rtf = load, fallback, max_rtf
        self.name, self.model = model, load(model)
        self.rtf: float | None = None           # of the last transcription that judged the speed

    def text(self, wav: np.ndarray) -> str:
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NoSpeechWarning)    # silence is an empty text
            text = self.model.transcribe(wav).text
        if len(wav) >= MIN_RTF_S * SR:
            self.rtf = (time.perf_counter() - started) / (len(wav) / SR)
            if self.rtf > self.max_rtf and self.fallback and self.fallback != self.name:
                self._switch()
        return text

    def _switch(self) -> None:
        try:
            self.model = self.load(self.fallback)
        except UserError as e:                  # e.g. an English-only model for another language
            warnings.warn(f"live ASR stays on {self.name}: {e}")
        else:
            self.name = self.fallback
        self.fallback = None


class LiveStream:
    """One microphone stream. `feed` adds 16 kHz audio; `state` is what the page shows."""

    def __init__(self, analyzer, ser_lock: threading.Lock, asr: LiveAsr, asr_pool: Executor,
                 emotion_window_s: float = 3.0, segment_s: float = 6.0, max_behind_s: float = 15.0):
        """`analyzer` (an analysis.Analyzer) recognises the emotion (under `ser_lock`); `asr`
        transcribes in `asr_pool` (one thread), one job at a time per stream; unfixed audio
        beyond `max_behind_s` is skipped."""
        self.analyzer, self.ser_lock, self.asr, self.asr_pool = analyzer, ser_lock, asr, asr_pool
        self.window = int(emotion_window_s * SR)
        self.segment = int(segment_s * SR)
        self.max_behind = max(int(max_behind_s * SR), self.segment)
        self.skipped = 0                            # samples never transcribed
        self.lock = threading.Lock()
        self.recent = np.zeros(0, np.float32)       # the last `window` samples
        self.pending = np.zeros(0, np.float32)      # audio whose words are not fixed yet
        self.fixed: list[str] = []                  # the fixed words
        self.tentative = ""
        self.heard = 0                              # samples received
        self.job: Future | None = None
        self.emotion = None
        self.adapter = analyzer.session_adapter()   # learns this stream's speaker; new for every Start

    def feed(self, pcm: np.ndarray) -> dict:
        """Add a chunk, recognise the emotion of the last window, start a transcription if none runs."""
        with self.lock:
            self.recent = np.concatenate([self.recent, pcm])[-self.window:]
            self.pending = np.concatenate([self.pending, pcm])
            self.heard += len(pcm)
            recent = self.recent
        with self.ser_lock:
            self.emotion = self.analyzer.emotion(recent, self.adapter)
        with self.lock:
            if self.job is None or self.job.done():
                self.job = self.asr_pool.submit(self._transcribe)
        return self.state()

    def finish(self, wait_s: float = STOP_WAIT_S) -> dict:
        """Fix the words of everything heard, in the ASR thread once the running transcription
        ends; after `wait_s` the audio not transcribed yet is given up and counted as skipped."""
        self.job = self.asr_pool.submit(self._transcribe, final=True)
        try:
            self.job.result(timeout=wait_s)
        except TimeoutError:
            self.job.cancel()                   # when it has not started; else its words come too late
            with self.lock:
                self.skipped += len(self.pending)
                self.fixed = [*self.fixed, *self.tentative.split(), SKIPPED][-MAX_WORDS:]
                self.pending, self.tentative = np.zeros(0, np.float32), ""
        state = self.state()
        return {**state, "transcribing": False}

    def state(self) -> dict:
        """The emotion, the transcript; whether a transcription is running, how much audio was
        skipped and how far the transcript lags, the ASR model in use; how far the speaker's
        baseline is learnt (None when `ser.adapt` is off)."""
        with self.lock:
            words = self.fixed + self.tentative.split()
            behind = len(self.pending)
        return {
            "emotion": None if self.emotion is None else self.emotion.to_dict(),
            "transcript": " ".join(words[-MAX_WORDS:]),
            "heard_s": round(self.heard / SR, 2),
            "transcribing": self.job is not None and not self.job.done(),
            "behind_s": round(behind / SR, 1),
            "skipped_s": round(self.skipped / SR, 1),
            "asr_model": self.asr.name,
            "adaptation": None if self.adapter is None else self.adapter.learning,
        }

    def _transcribe(self, final: bool = False) -> None:
        with self.lock:
            if len(self.pending) > self.max_behind:         # too far behind: skip the oldest audio
                self.skipped += len(self.pending) - self.max_behind
                self.pending = self.pending[-self.max_behind:]
                if self.fixed[-1:] != [SKIPPED]:
                    self.fixed.append(SKIPPED)
            pending = self.pending
        cut = len(pending) if final else _quiet_cut(pending, self.segment)
        head = self._text(pending[:cut]) if cut else ""
        tail = "" if final else self._text(pending[cut:])
        with self.lock:
            if cut:
                self.fixed = (self.fixed + head.split())[-MAX_WORDS:]
                self.pending = self.pending[cut:]
            self.tentative = tail

    def _text(self, wav: np.ndarray) -> str:
        return self.asr.text(wav) if len(wav) >= SR // 2 else ""


class ModelLocks:
    """One lock per model of the Converter, so that SER runs beside a transcription; a
    conversion holds both."""

    def __init__(self):
        self.ser, self.asr = threading.Lock(), threading.Lock()

    def __enter__(self):
        self.ser.acquire()
        self.asr.acquire()
        return self

    def __exit__(self, *exc):
        self.asr.release()
        self.ser.release()


def _quiet_cut(wav: np.ndarray, segment: int) -> int:
    """0 while `wav` is shorter than `segment`; else the quietest 10 ms of its last third."""
    if len(wav) < segment:
        return 0
    low = len(wav) * 2 // 3 // (SR // 100) * (SR // 100)
    return low + quietest(wav[low:])
