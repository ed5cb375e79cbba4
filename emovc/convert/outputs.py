"""Numbered outputs: `N.wav` + `N.json` (+ `N.png`), reserved atomically and published together.

A run reserves the next number by creating the folder `.N.partial` (``os.mkdir`` is atomic,
so concurrent runs never get the same N), writes both files inside it (the audio streamed
chunk by chunk), then hard-links them into place (never overwriting) and removes the
reservation. An error, a full disk, Ctrl-C or SIGTERM leaves nothing behind, not even the
folders the run created; a reservation left by a killed process is cleared by the next run.
"""
import json
import os
import re
import shutil
import time
from pathlib import Path
from typing import Iterable

import numpy as np

from emovc.core.audio import check_writable, save_audio, write_error

__all__ = ["OutputSlot", "check_writable"]

_NUMBERED = re.compile(r"^\.?(\d+)(\.wav|\.json|\.png|\.partial)$")
_UMASK = os.umask(0o022)
os.umask(_UMASK)
WHERE = "another --output-dir"
ORPHAN_S = 60.0         # a reservation without a pid this old was left by a killed run


class OutputSlot:
    """Context manager reserving the next free number N in `folder` (above every existing one)."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)

    def __enter__(self) -> "OutputSlot":
        check_writable(self.folder)
        self.created = [p for p in (self.folder, *self.folder.parents) if not p.exists()]
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            _clear_abandoned(self.folder)
            self._reserve()
        except OSError as e:
            self._remove_created()
            raise write_error(self.folder, e, WHERE) from None
        except BaseException:
            self._remove_created()
            raise
        return self

    def _reserve(self) -> None:
        number = 1 + max(_numbers(self.folder), default=0)
        while True:
            self.partial = self.folder / f".{number}.partial"
            try:
                self.partial.mkdir()
            except FileExistsError:
                number += 1
                continue
            if any((self.folder / f"{number}{ext}").exists() for ext in (".wav", ".json", ".png")):
                self.partial.rmdir()    # published by a run that released N meanwhile
                number += 1
                continue
            break
        try:
            (self.partial / "pid").write_text(str(os.getpid()))
        except BaseException:
            shutil.rmtree(self.partial, ignore_errors=True)
            raise
        self.number = number
        self.wav_path = self.folder / f"{number}.wav"
        self.json_path = self.folder / f"{number}.json"
        self.png_path = self.folder / f"{number}.png"

    def save_audio(self, audio: np.ndarray | Iterable[np.ndarray], sr: int) -> Path:
        """Write the audio (an array or chunks, streamed) inside the reservation; returns that file."""
        return save_audio(self.partial / self.wav_path.name, audio, sr, where=WHERE)

    def take_audio(self, source: Path) -> Path:
        """Move a finished audio file (written elsewhere, in this slot's format) into the
        reservation; a rename on the same file system, else a copy. Returns the reserved file."""
        target = self.partial / self.wav_path.name
        try:
            shutil.move(source, target)
        except OSError as e:
            raise write_error(self.wav_path, e, WHERE) from None
        return target

    def write_audio_bytes(self, data: bytes) -> Path:
        """Write an audio file's bytes (in this slot's format) inside the reservation."""
        target = self.partial / self.wav_path.name
        try:
            with open(target, "xb") as f:
                f.write(data)
        except OSError as e:
            raise write_error(self.wav_path, e, WHERE) from None
        return target

    def publish(self, report: dict, png: bytes | None = None) -> None:
        """Write the report (and `png` as N.png) beside the saved audio, then link them into place together."""
        paths = [self.wav_path, self.json_path] + ([] if png is None else [self.png_path])
        path = self.json_path
        try:
            (self.partial / path.name).write_text(
                json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            if png is not None:
                path = self.png_path
                (self.partial / path.name).write_bytes(png)
            for path in paths:      # temporary files are private (0600)
                os.chmod(self.partial / path.name, 0o666 & ~_UMASK)
        except OSError as e:
            raise write_error(path, e, WHERE) from None
        published = []
        try:
            for path in paths:
                os.link(self.partial / path.name, path)
                published.append(path)
        except BaseException as e:
            for done in published:
                done.unlink(missing_ok=True)
            if isinstance(e, OSError):
                raise write_error(path, e, WHERE) from None
            raise

    def __exit__(self, exc_type, exc, tb) -> None:
        shutil.rmtree(self.partial, ignore_errors=True)
        if exc_type is not None:
            self._remove_created()

    def _remove_created(self) -> None:
        """Remove the folders this run created, deepest first, if they are still empty."""
        for folder in self.created:
            try:
                folder.rmdir()
            except OSError:
                break


def _numbers(folder: Path) -> list[int]:
    return [int(m.group(1)) for m in map(_NUMBERED.match, os.listdir(folder)) if m]


def _clear_abandoned(folder: Path) -> None:
    """Remove reservations whose process no longer exists (killed with SIGKILL, power loss)."""
    for partial in folder.glob(".*.partial"):
        try:
            pid = int((partial / "pid").read_text())
        except (OSError, ValueError):
            pid = None      # being created right now, unless it has been like this for a while
        if (pid is None and _age(partial) > ORPHAN_S) or (pid is not None and not _alive(pid)):
            shutil.rmtree(partial, ignore_errors=True)


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return 0.0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
