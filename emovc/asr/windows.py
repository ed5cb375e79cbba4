"""Audio in, speech windows out: 16 kHz mono pieces of at most 30 s that hold all detected speech.

Every backend recognises windows, so silence never reaches a recogniser and memory stays
bounded: voice activity is found block by block (`core.audio.Source`: files longer than a
block are also read and resampled block by block), and only the current block (plus the
unfinished window carried over from the previous one) is in memory.
Voice activity comes from the Silero VAD model that ships inside faster-whisper.
"""
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from emovc.core.audio import SR, Source

MAX_WINDOW_S = 30.0     # Whisper's context; PaddleSpeech refuses more than 50 s


@dataclass
class Window:
    start: float            # seconds from the start of the input
    audio: np.ndarray       # float32, 16 kHz


def speech_spans(wav: np.ndarray, max_window_s: float = MAX_WINDOW_S) -> list[tuple[int, int]]:
    """Silero VAD speech regions as (start, end) samples, padded, none longer than a window."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps
    options = VadOptions(min_silence_duration_ms=500, speech_pad_ms=300, max_speech_duration_s=max_window_s)
    return [(s["start"], s["end"]) for s in get_speech_timestamps(wav, options, sampling_rate=SR)]


def _group(spans: list[tuple[int, int]], max_samples: int) -> list[tuple[int, int]]:
    """Merge consecutive spans into windows no longer than `max_samples`."""
    groups: list[tuple[int, int]] = []
    for start, end in spans:
        if groups and end - groups[-1][0] <= max_samples:
            groups[-1] = (groups[-1][0], end)
        else:
            groups.append((start, end))
    return groups


def speech_windows(source: Source, max_window_s: float = MAX_WINDOW_S) -> Iterator[Window]:
    """Windows of at most `max_window_s` covering the speech in `source`.

    A clip no longer than one window that holds any speech is passed whole (no trimmed word
    edges); longer audio is cut at pauses. No speech at all yields nothing.
    """
    max_samples = int(max_window_s * SR)
    carry, carry_start = np.zeros(0, np.float32), 0
    offset = 0                                   # samples read before the current block
    for block, last in source.blocks():
        buf = np.concatenate([carry, block]) if carry.size else block
        buf_start = carry_start if carry.size else offset
        offset += len(block)
        groups = _group(speech_spans(buf, max_window_s), max_samples)
        if last and buf_start == 0 and len(buf) <= max_samples and groups:
            yield Window(0.0, buf)
            return
        held = groups.pop() if groups and not last else None   # may continue in the next block
        for start, end in groups:
            yield Window((buf_start + start) / SR, buf[start:end])
        carry = buf[held[0]:] if held else np.zeros(0, np.float32)
        carry_start = buf_start + held[0] if held else 0
