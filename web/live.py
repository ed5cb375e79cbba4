"""Live mode: microphone audio arrives in chunks; the emotion of the last few seconds and a
growing transcript come back.

The emotion is recognised on every chunk (fast). The transcript is recognised in the
background by its own ASR model instance (its own CTranslate2 model and thread, so the SER's
Whisper encoder never waits behind it): the audio not yet fixed is re-transcribed as it
grows, and once it is longer than `segment_s` it is cut at its quietest point and the part
before the cut is fixed. Memory is bounded: only the last `emotion_window_s` and the unfixed
part (about `segment_s`) are kept, and the fixed text.
"""
import threading
import warnings
from concurrent.futures import Executor, Future

import numpy as np

from convert.pipeline import ASR_SR, Converter

MAX_WORDS = 2000        # the transcript keeps this many words at most (the newest)


class LiveStream:
    """One microphone stream. `feed` adds 16 kHz audio; `state` is what the page shows."""

    def __init__(self, converter: Converter, ser_lock: threading.Lock, asr, asr_pool: Executor,
                 emotion_window_s: float = 3.0, segment_s: float = 6.0):
        """`converter` recognises the emotion (under `ser_lock`); `asr` (an asr.load_asr model)
        transcribes in `asr_pool`, one job at a time per stream."""
        self.converter, self.ser_lock, self.asr, self.asr_pool = converter, ser_lock, asr, asr_pool
        self.window = int(emotion_window_s * ASR_SR)
        self.segment = int(segment_s * ASR_SR)
        self.lock = threading.Lock()
        self.recent = np.zeros(0, np.float32)       # the last `window` samples
        self.pending = np.zeros(0, np.float32)      # audio whose words are not fixed yet
        self.fixed: list[str] = []                  # the fixed words
        self.tentative = ""
        self.heard = 0                              # samples received
        self.job: Future | None = None
        self.emotion = None

    def feed(self, pcm: np.ndarray) -> dict:
        """Add a chunk, recognise the emotion of the last window, start a transcription if none runs."""
        with self.lock:
            self.recent = np.concatenate([self.recent, pcm])[-self.window:]
            self.pending = np.concatenate([self.pending, pcm])
            self.heard += len(pcm)
            recent = self.recent
        with self.ser_lock:
            self.emotion = self.converter.detect_emotion(recent)
        with self.lock:
            if self.job is None or self.job.done():
                self.job = self.asr_pool.submit(self._transcribe)
        return self.state()

    def finish(self) -> dict:
        """Wait for the running transcription, then fix the words of everything heard."""
        if self.job is not None:
            self.job.result()
        self._transcribe(final=True)
        return self.state()

    def state(self) -> dict:
        with self.lock:
            words = self.fixed + self.tentative.split()
        return {
            "emotion": prediction_dict(self.emotion),
            "transcript": " ".join(words[-MAX_WORDS:]),
            "heard_s": round(self.heard / ASR_SR, 2),
        }

    def _transcribe(self, final: bool = False) -> None:
        with self.lock:
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
        from asr import NoSpeechWarning
        if len(wav) < ASR_SR // 2:
            return ""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NoSpeechWarning)    # silence is an empty text
            return self.asr.transcribe(wav).text


def prediction_dict(prediction) -> dict | None:
    """A Prediction as JSON: its label, the top emotion (the label may be 'uncertain'), probabilities."""
    if prediction is None:
        return None
    p = prediction.probabilities
    return {"label": prediction.label, "top": max(p, key=p.get),
            "probabilities": {k: round(float(v), 4) for k, v in p.items()}}


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
    hop = ASR_SR // 100
    low = len(wav) * 2 // 3 // hop * hop
    energy = (wav[low: low + (len(wav) - low) // hop * hop].reshape(-1, hop) ** 2).sum(axis=1)
    return low + int(np.argmin(energy)) * hop
