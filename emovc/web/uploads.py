"""Uploads are untrusted: a size limit while they arrive, a duration limit before they are
decoded, only the formats browsers record or export, and a one-line message for anything else."""
import os
from pathlib import Path
from typing import AsyncIterator

import numpy as np
import soundfile as sf

from emovc.core.audio import load_audio
from emovc.core.errors import AudioError, UserError

FORMATS = (".wav", ".webm", ".ogg", ".opus", ".mp3", ".m4a", ".mp4", ".aac", ".flac")
FORMAT_NAMES = "WAV, WebM/Opus, OGG, MP3, M4A or FLAC"


class RequestError(UserError):
    """A refused request (bad upload, unknown session); `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def check_name(name: str) -> str:
    """The upload's extension, if it is one of FORMATS."""
    suffix = Path(name or "").suffix.lower()
    if suffix not in FORMATS:
        raise RequestError(f"{name or 'the upload'}: {suffix or 'no extension'} is not an audio format "
                          f"this app reads; upload {FORMAT_NAMES}", status=415)
    return suffix


async def receive(chunks: AsyncIterator[bytes], path: Path, max_bytes: int) -> None:
    """Write the request body to `path` (private to its session), refusing it past `max_bytes`."""
    size = 0
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
        async for chunk in chunks:
            size += len(chunk)
            if size > max_bytes:
                raise RequestError(f"upload is larger than {max_bytes / 1e6:g} MB; "
                                  f"send a shorter or more compressed recording", status=413)
            f.write(chunk)
    if size == 0:
        raise RequestError("upload is empty (0 bytes); choose or record a file")


def decode(path: Path, name: str, max_duration_s: float, min_duration_s: float) -> tuple[np.ndarray, int]:
    """Decode an upload after checking its duration, without decoding more than the limit."""
    duration = _duration(path, name, max_duration_s)
    if duration > max_duration_s:
        raise RequestError(f"{name}: longer than the limit of {max_duration_s / 60:g} min; "
                          f"cut it into shorter parts", status=413)
    try:
        return load_audio(path, min_duration=min_duration_s)
    except AudioError as e:
        message = str(e).replace(str(path), name)
        if "; use " in message:     # not readable: name the formats a browser can send
            message = message.split("; use ")[0] + f"; upload {FORMAT_NAMES}"
        raise RequestError(message, status=415 if "not a readable" in message else 400) from None


def _duration(path: Path, name: str, limit_s: float) -> float:
    """Seconds of audio, from the header where it has them, else counted while decoding
    (stopping past `limit_s`): browsers' WebM recordings carry no duration."""
    try:
        return sf.info(str(path)).duration
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError):
        pass
    import av
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise RequestError(f"{name}: holds no audio; upload {FORMAT_NAMES}", status=415)
            stream = container.streams.audio[0]
            seconds = 0.0
            for frame in container.decode(stream):
                seconds += frame.samples / frame.sample_rate
                if seconds > limit_s:
                    break
            return seconds
    except av.error.FFmpegError:
        return 0.0          # not audio: load_audio says so in its own words
