"""Audio in, speech windows out: 16 kHz mono pieces of at most 30 s that hold all detected speech.

Every backend recognises windows, so silence never reaches a recogniser and memory stays
bounded: voice activity is found block by block (`BLOCK_S`), files longer than a block are also
read and resampled block by block, and only the current block (plus the unfinished window
carried over from the previous one) is in memory.
Voice activity comes from the Silero VAD model that ships inside faster-whisper.
"""
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from core.audio import check_input, load_audio, resample
from core.errors import AudioError

SR = 16000
MAX_WINDOW_S = 30.0     # Whisper's context; PaddleSpeech refuses more than 50 s
BLOCK_S = 60.0          # audio is windowed block by block; longer files are streamed


@dataclass
class Window:
    start: float            # seconds from the start of the input
    audio: np.ndarray       # float32, 16 kHz


@dataclass
class Source:
    """Audio to window: a file path or a waveform, with its total duration filled in as it is read."""
    audio: str | os.PathLike | np.ndarray
    sr: int = SR
    duration: float = 0.0

    @property
    def name(self) -> str:
        return "audio" if isinstance(self.audio, np.ndarray) else str(self.audio)

    def blocks(self) -> Iterator[tuple[np.ndarray, bool]]:
        """Yield (16 kHz mono block, is_last)."""
        if isinstance(self.audio, np.ndarray):
            yield from _slices(self._check_array())
            return
        path = Path(self.audio)
        check_input(path)                      # a FIFO would block the opening below
        info = _soundfile_info(path)
        if info is None or info.duration <= BLOCK_S:
            wav, _ = load_audio(path, sr=SR)   # clear errors for missing, empty, corrupt files
            self.duration = len(wav) / SR
            yield from _slices(wav)
            return
        yield from self._stream(path, info.samplerate)

    def _check_array(self) -> np.ndarray:
        wav = np.asarray(self.audio)
        if wav.ndim != 1 or not np.issubdtype(wav.dtype, np.floating):
            raise AudioError(f"audio array must be 1-D float (mono), got shape {wav.shape} dtype {wav.dtype}")
        if wav.size == 0 or not np.all(np.isfinite(wav)):
            raise AudioError("audio array is empty or holds NaN/infinite samples")
        wav = resample(wav.astype(np.float32), self.sr, SR)
        self.duration = len(wav) / SR
        return wav

    def _stream(self, path: Path, file_sr: int) -> Iterator[tuple[np.ndarray, bool]]:
        import soundfile as sf
        import soxr
        stream = soxr.ResampleStream(file_sr, SR, 1, dtype="float32", quality="HQ") if file_sr != SR else None
        with sf.SoundFile(path) as f:
            blocks = f.blocks(blocksize=int(BLOCK_S * file_sr), dtype="float32", always_2d=True)
            block = next(blocks, None)
            while block is not None:
                following = next(blocks, None)
                last = following is None
                wav = block.mean(axis=1)
                if stream is not None:
                    wav = stream.resample_chunk(wav, last=last)
                self.duration += len(wav) / SR
                yield np.ascontiguousarray(wav, dtype=np.float32), last
                block = following


def _slices(wav: np.ndarray) -> Iterator[tuple[np.ndarray, bool]]:
    size = int(BLOCK_S * SR)
    for start in range(0, len(wav), size):
        yield wav[start:start + size], start + size >= len(wav)


def _soundfile_info(path: Path):
    import soundfile as sf
    try:
        return sf.info(str(path))
    except Exception:
        return None   # missing or not libsndfile-readable: load_audio reports or decodes it


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
