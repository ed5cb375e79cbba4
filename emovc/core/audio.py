"""The one place where audio is read, resampled, cut and written.

Every stage calls `load_audio` (any rate, channel count or bit depth; WAV, FLAC, OGG/Opus,
MP3 through libsndfile, other containers such as M4A through FFmpeg/PyAV) and `save_audio`,
which publishes a file atomically (streamed chunk by chunk if given chunks) and never
overwrites an existing one. A failing disk (full, read-only, gone) is a one-line UserError.
Long recordings are read as 16 kHz blocks (`Source`), kept from a moving point on (`Reader`)
and cut into windows at pauses (`window_spans`, `split_at_pauses`, both via `quietest`).
"""
import contextlib
import errno
import fcntl
import glob
import os
import shutil
import stat
import struct
import tempfile
from pathlib import Path
from dataclasses import dataclass
from typing import Iterable, Iterator

import numpy as np
import soundfile as sf

from emovc.core.errors import AudioError, UserError

SR = 16000              # the rate every recogniser reads (SER, ASR, VAD)
BLOCK_S = 60.0          # long files are read and resampled block by block
SNAP_S = 0.5            # window edges move to the quietest 10 ms within this distance
ENVELOPE_S = 0.01       # a Reader keeps min and max per 10 ms (for pictures)
_UMASK = os.umask(0o022)     # read once (setting it is the only way to read it)
os.umask(_UMASK)
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".opus", ".mp3", ".m4a", ".aac", ".aiff", ".aif", ".webm")
DC_OFFSET = 1e-3        # a mean above this is removed (recordings here have below 5e-4); it hides speech
WRITE_FORMATS = {".wav": ("WAV", "PCM_16"), ".flac": ("FLAC", "PCM_16"), ".ogg": ("OGG", "VORBIS"),
                 ".mp3": ("MP3", "MPEG_LAYER_III")}     # what save_audio writes, by extension


def load_audio(path: str | os.PathLike, sr: int | None = None, mono: bool = True,
               min_duration: float = 0.0) -> tuple[np.ndarray, int]:
    """Read `path` as float32 in [-1, 1] (float files above 1 are scaled down); mono unless
    `mono=False`: channels averaged, or the loudest channel if they cancel (anti-phase).

    `sr` resamples (soxr, high quality) to that rate; None keeps the file's rate.
    A DC offset (the mean of a channel) is removed. Raises AudioError naming the file and the
    problem for missing, empty, truncated or non-audio files, FIFOs and devices, and for clips
    shorter than `min_duration` seconds.
    """
    path = Path(path)
    status = check_input(path)
    if stat.S_ISDIR(status.st_mode):
        raise AudioError(f"{path}: is a folder, not an audio file")
    if status.st_size == 0:
        raise AudioError(f"{path}: file is empty (0 bytes); record or export it again")
    try:
        wav, file_sr = _read_soundfile(path)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as first:
        try:
            wav, file_sr = _read_ffmpeg(path)
        except Exception:
            raise AudioError(f"{path}: not a readable audio file ({_reason(first)}); "
                             f"use WAV, FLAC, OGG or MP3") from None
    if wav.size == 0:
        raise AudioError(f"{path}: contains no audio samples; record or export it again")
    if not np.all(np.isfinite(wav)):
        raise AudioError(f"{path}: contains NaN or infinite samples; export it again")
    offset = wav.mean(axis=0)
    if np.any(np.abs(offset) > DC_OFFSET):
        wav -= offset
    peak = max(float(wav.max()), -float(wav.min()))
    if peak > 1.0:
        wav /= peak
    if mono:
        wav = _mix(wav)
    if sr is not None and sr != file_sr:
        wav = resample(wav, file_sr, sr)
        file_sr = sr
    duration = len(wav) / file_sr
    if duration < min_duration:
        raise AudioError(f"{path}: only {duration:.2f} s long; need at least {min_duration:g} s of speech")
    return np.ascontiguousarray(wav, dtype=np.float32), file_sr


def check_input(path: Path) -> os.stat_result:
    """`path`'s status, before anything opens it: AudioError when it is missing, a symbolic link
    loop, or neither a regular file nor a folder (opening a FIFO blocks; a device never ends)."""
    try:
        status = path.stat()
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise AudioError(f"{path}: symbolic link loop (the link leads back to itself); "
                             f"point it at an audio file") from None
        if e.errno in (errno.ENOENT, errno.ENOTDIR):
            raise AudioError(f"{path}: no such file or folder; check the path") from None
        raise AudioError(f"{path}: cannot read it ({_strerror(e)})") from None
    if not (stat.S_ISREG(status.st_mode) or stat.S_ISDIR(status.st_mode)):
        kind = "a FIFO (named pipe)" if stat.S_ISFIFO(status.st_mode) else \
            "a socket" if stat.S_ISSOCK(status.st_mode) else "a device"
        raise AudioError(f"{path}: is {kind}, not an audio file; save the audio to a file first")
    return status


def _mix(wav: np.ndarray) -> np.ndarray:
    """Channels averaged; when that cancels most of the power (channels in anti-phase), the loudest one."""
    if wav.shape[1] == 1:
        return wav[:, 0]
    mix = wav.mean(axis=1)
    power = [float(np.dot(channel, channel)) for channel in wav.T]
    if float(np.dot(mix, mix)) < 0.01 * np.mean(power):
        return wav[:, int(np.argmax(power))]
    return mix


def resample(wav: np.ndarray, from_sr: int, to_sr: int) -> np.ndarray:
    """Resample along the first axis with soxr (high quality)."""
    if from_sr == to_sr:
        return wav
    import soxr
    return soxr.resample(wav, from_sr, to_sr, quality="HQ").astype(np.float32)


def _read_soundfile(path: Path) -> tuple[np.ndarray, int]:
    with sf.SoundFile(path) as f:
        expected = f.frames
        wav = f.read(dtype="float32", always_2d=True)
    if expected > 0 and len(wav) < expected:
        raise AudioError(f"{path}: truncated ({len(wav)} of {expected} frames); the file is incomplete")
    declared = _wav_data_end(path)      # libsndfile silently shortens a cut-off WAV
    if declared and declared > path.stat().st_size:
        raise AudioError(f"{path}: truncated ({path.stat().st_size} of {declared} bytes); "
                         f"the file is incomplete, copy or export it again")
    return wav, f.samplerate


def _wav_data_end(path: Path) -> int | None:
    """Where a RIFF/WAVE header says its audio data ends; None if not WAV or size unknown."""
    with open(path, "rb") as f:
        head = f.read(12)
        if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None
        while len(chunk := f.read(8)) == 8:
            name, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if name == b"data":
                return None if size in (0, 0xFFFFFFFF) else f.tell() + size
            f.seek(size + (size & 1), 1)
    return None


def _read_ffmpeg(path: Path) -> tuple[np.ndarray, int]:
    import av  # installed with faster-whisper; reads containers libsndfile does not
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        frames = [frame.to_ndarray() for frame in container.decode(stream)]
        sr = stream.rate
    if not frames:
        raise AudioError(f"{path}: no audio stream")
    planes = np.concatenate([f if f.ndim == 2 else f[None] for f in frames], axis=1)
    wav = planes.T.astype(np.float32)
    if np.issubdtype(frames[0].dtype, np.integer):
        wav /= float(np.iinfo(frames[0].dtype).max)
    return wav, sr


def _reason(error: Exception) -> str:
    text = str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__
    return text.split(": ", 1)[-1] if text.startswith("Error opening") else text


def save_audio(path: str | os.PathLike, wav: np.ndarray | Iterable[np.ndarray], sr: int,
               overwrite: bool = False, where: str = "another output path") -> Path:
    """Write mono audio in the format `path`'s extension names (WAV and FLAC 16-bit, OGG Vorbis,
    MP3) via a temporary file in the same folder, then publish it.

    `wav` is an array or an iterable of chunks, written as they come (memory stays bounded).
    Without `overwrite`, an existing file is never replaced (FileExistsError); with it the
    replacement is atomic. An interrupted or failed write leaves nothing behind; `where` is
    the fix a disk error names ("choose another ...").
    """
    path = Path(path)
    fmt, subtype = output_format(path)
    with atomic_path(path, overwrite=overwrite, where=where) as tmp:
        frames = 0
        with sf.SoundFile(tmp, "w", sr, 1, subtype, format=fmt) as f:
            for chunk in [wav] if isinstance(wav, np.ndarray) else wav:
                chunk = np.asarray(chunk, dtype=np.float32)
                if not np.all(np.isfinite(chunk)):
                    raise AudioError(f"{path}: refusing to write non-finite audio")
                f.write(np.clip(chunk, -1.0, 1.0))
                frames += len(chunk)
        if frames == 0:
            raise AudioError(f"{path}: refusing to write empty audio")
    return path


def output_format(path: Path) -> tuple[str, str]:
    """(libsndfile format, subtype) for `path`'s extension; AudioError for one save_audio cannot write."""
    if path.suffix.lower() not in WRITE_FORMATS:
        raise AudioError(f"{path}: cannot write '{path.suffix or 'no extension'}' files; "
                         f"name it {' or '.join(WRITE_FORMATS)}")
    return WRITE_FORMATS[path.suffix.lower()]


def check_writable(folder: str | os.PathLike, where: str = "--output-dir") -> None:
    """Fail early, before any model loads, when `folder` cannot hold outputs; creates nothing."""
    folder = Path(folder)
    existing = next(p for p in (folder, *folder.parents) if p.exists() or p == p.parent)
    try:
        if not existing.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "a file is in the way")
        _sweep_unheld(existing.glob(".write-test-*"))     # a killed run's probe
        fd, probe = tempfile.mkstemp(prefix=".write-test-", dir=existing)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)                  # held while it lives: see _sweep_unheld
            Path(probe).unlink(missing_ok=True)
        finally:
            os.close(fd)
    except OSError as e:
        raise UserError(f"output folder {folder} cannot be written ({_strerror(e)}); "
                        f"choose another with {where}") from None


def write_error(path: Path, error: Exception, where: str) -> UserError:
    """The one-line error for a write that failed on the disk: what, why, and the fix."""
    full = getattr(error, "errno", None) in (errno.ENOSPC, errno.EDQUOT) or (
        isinstance(error, sf.LibsndfileError) and _free_bytes(path) < 1 << 20)
    if full:
        return UserError(f"cannot write {path}: no space left on device; free space or choose {where}")
    return UserError(f"cannot write {path}: {_strerror(error)}; choose {where}")


def _strerror(error: Exception) -> str:
    text = getattr(error, "strerror", None) or getattr(error, "error_string", None) or str(error)
    return text[0].lower() + text[1:] if text else type(error).__name__


def _free_bytes(path: Path) -> int:
    try:
        return shutil.disk_usage(next(p for p in (path, *path.parents) if p.exists())).free
    except (OSError, StopIteration):
        return 0


class atomic_path:
    """Context manager yielding a temporary path next to `path`; on success it becomes `path`.

    The publish step uses a hard link (fails if `path` exists) unless `overwrite` is set,
    so concurrent writers never clobber each other's files. A disk error (full, read-only)
    in the block or while publishing becomes a one-line UserError whose fix names `where`.
    The writer holds a lock on its temporary file until it is published, so the temporary
    files of `path` that nobody holds were left by a killed writer: entering removes them.
    """

    def __init__(self, path: Path, overwrite: bool = False, where: str = "another output path"):
        self.path, self.overwrite, self.where = Path(path), overwrite, where

    def __enter__(self) -> Path:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            sweep_temporary(self.path)
            while True:
                fd, name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
                with contextlib.suppress(OSError):      # a file system without locks: nothing is swept
                    fcntl.flock(fd, fcntl.LOCK_EX)
                if os.fstat(fd).st_nlink:
                    break
                os.close(fd)        # another writer swept it between mkstemp and flock: make another
        except OSError as e:
            raise write_error(self.path, e, self.where) from None
        self.fd, self.tmp = fd, Path(name)
        return self.tmp

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                os.chmod(self.tmp, 0o666 & ~_UMASK)    # as open() would make it, not mkstemp's 0600
                if self.overwrite:
                    os.replace(self.tmp, self.path)
                else:
                    os.link(self.tmp, self.path)
        except OSError as e:
            if isinstance(e, FileExistsError):
                raise
            raise write_error(self.path, e, self.where) from None
        finally:
            self.tmp.unlink(missing_ok=True)
            os.close(self.fd)       # releases the lock
        if isinstance(exc, (OSError, sf.LibsndfileError)) and not isinstance(exc, FileExistsError):
            raise write_error(self.path, exc, self.where) from None


def sweep_temporary(path: Path) -> None:
    """Remove `atomic_path`'s temporary files of `path` that no writer holds (a killed one's)."""
    _sweep_unheld(path.parent.glob(f".{glob.escape(path.name)}.*.tmp"))


def _sweep_unheld(paths: Iterable[Path]) -> None:
    """Delete the files no live process holds a lock on."""
    for stale in paths:
        try:
            fd = os.open(stale, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)     # fails while its writer lives
            stale.unlink()
        except OSError:
            pass
        finally:
            os.close(fd)


def list_audio(paths: list[str | os.PathLike]) -> list[Path]:
    """Expand files and folders (recursively) into a sorted list of audio files."""
    found: list[Path] = []
    for p in map(Path, paths):
        if stat.S_ISDIR(check_input(p).st_mode):
            files = sorted(f for f in p.rglob("*") if f.suffix.lower() in AUDIO_EXTENSIONS and f.is_file())
            if not files:
                raise AudioError(f"{p}: folder holds no audio files ({', '.join(AUDIO_EXTENSIONS)})")
            found.extend(files)
        else:
            found.append(p)
    return found


def quietest(wav: np.ndarray, sr: int = SR) -> int:
    """The start of the quietest 10 ms of `wav` (0 when it is shorter)."""
    hop = sr // 100
    if len(wav) < hop:
        return 0
    energy = (wav[: len(wav) // hop * hop].reshape(-1, hop) ** 2).sum(axis=1)
    return int(np.argmin(energy)) * hop


def split_at_pauses(wav: np.ndarray, sr: int, max_s: float) -> list[np.ndarray]:
    """Split into pieces of at most `max_s`, each cut at the quietest 10 ms of its last fifth
    (never leaving a last piece shorter than a tenth of `max_s`)."""
    size = int(max_s * sr)
    pieces, start = [], 0
    while len(wav) - start > size:
        low, high = start + size * 4 // 5, min(start + size, len(wav) - size // 10)
        cut = low + quietest(wav[low:high], sr)
        pieces.append(wav[start:cut])
        start = cut
    pieces.append(wav[start:])
    return pieces


@dataclass
class Source:
    """Audio to read as 16 kHz mono blocks: a file path or a waveform at `sr`; `duration` is
    filled in as it is read."""
    audio: str | os.PathLike | np.ndarray
    sr: int = SR
    duration: float = 0.0

    @property
    def name(self) -> str:
        return "audio" if isinstance(self.audio, np.ndarray) else str(self.audio)

    def blocks(self) -> Iterator[tuple[np.ndarray, bool]]:
        """Yield (16 kHz mono block of at most BLOCK_S, is_last)."""
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
    try:
        return sf.info(str(path))
    except Exception:
        return None   # missing or not libsndfile-readable: load_audio reports or decodes it


class Reader:
    """16 kHz audio from a `Source`, read block by block as far as asked and kept only from a
    moving start point on (so memory is a block and a window, whatever the length); it keeps
    the waveform's envelope (min, max per ENVELOPE_S) for pictures."""

    def __init__(self, source: Source):
        self.source, self.blocks = source, source.blocks()
        self.buf, self.start, self.done = np.zeros(0, np.float32), 0, False
        self.bins: list[np.ndarray] = []
        self.rest = np.zeros(0, np.float32)               # samples not yet in an envelope bin
        self.on_read = None                               # called with the duration read so far

    @property
    def end(self) -> int:
        return self.start + len(self.buf)

    @property
    def duration(self) -> float:
        return self.end / SR

    def ensure(self, sample: int) -> None:
        """Read blocks until `sample` is in the buffer or the file ends."""
        while not self.done and self.end < sample:
            block, self.done = next(self.blocks)
            self.buf = np.concatenate([self.buf, block])
            self._envelope(block)
            if self.on_read is not None:
                self.on_read(self.duration)

    def audio(self, a: int, b: int) -> np.ndarray:
        return self.buf[a - self.start:b - self.start]

    def drop(self, before: int) -> None:
        cut = before - self.start
        if cut > 0:
            self.buf, self.start = self.buf[cut:], before

    def quietest(self, sample: int) -> int:
        """The middle of the quietest 10 ms within SNAP_S of `sample` (in the buffer)."""
        hop = SR // 100
        lo, hi = max(sample - int(SNAP_S * SR), self.start), min(sample + int(SNAP_S * SR), self.end)
        if hi - lo < 2 * hop:
            return min(max(sample, self.start), self.end)
        return lo + quietest(self.audio(lo, hi)) + hop // 2

    def _envelope(self, block: np.ndarray) -> None:
        size = int(ENVELOPE_S * SR)
        x = np.concatenate([self.rest, block])
        n = len(x) // size
        if n:
            frames = x[: n * size].reshape(n, size)
            self.bins.append(np.stack([frames.min(1), frames.max(1)], axis=1))
        self.rest = x[n * size:]

    def envelope(self) -> np.ndarray:
        return np.concatenate(self.bins) if self.bins else np.zeros((0, 2), np.float32)

    def finish(self) -> None:
        """Read the rest block by block (for the envelope and the duration), keeping none of it."""
        while not self.done:
            self.drop(self.end)
            self.ensure(self.end + 1)
        self.drop(self.end)


def window_spans(reader: Reader, window_s: float, hop_s: float) -> Iterator[tuple[int, int]]:
    """(start, end) samples of windows of `window_s` every `hop_s`, edges at nearby pauses,
    covering the whole recording (the reader drops what no later window needs)."""
    window, hop, margin = int(window_s * SR), int(hop_s * SR), int(SNAP_S * SR)
    k, previous_end = 0, 0
    while True:
        nominal = k * hop
        reader.ensure(nominal + window + margin)
        if reader.done and (nominal >= reader.end or (k > 0 and previous_end >= reader.end)):
            return
        start = reader.quietest(nominal) if k else 0
        at_end = reader.done and nominal + window + margin >= reader.end
        end = reader.end if at_end else reader.quietest(nominal + window)
        if end - start > SR // 10:
            yield start, end
        previous_end, k = end, k + 1
        reader.drop(k * hop - margin)
