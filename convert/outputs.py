"""Numbered outputs: `N.wav` + `N.json` (+ `N.png`), reserved atomically and published together.

A run reserves the next number by creating the folder `.N.partial` (``os.mkdir`` is atomic,
so concurrent runs never get the same N), writes both files inside it, then hard-links them
into place (never overwriting) and removes the reservation. An error, Ctrl-C or SIGTERM
leaves nothing behind; a reservation left by a killed process is cleared by the next run.
"""
import json
import os
import re
import shutil
from pathlib import Path

import numpy as np

from core.audio import save_audio
from core.errors import UserError

_NUMBERED = re.compile(r"^\.?(\d+)(\.wav|\.json|\.png|\.partial)$")
_UMASK = os.umask(0o022)
os.umask(_UMASK)


def check_writable(folder: Path) -> None:
    """Fail early, before any model loads, when `folder` cannot hold outputs."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-test-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError as e:
        raise UserError(f"output folder {folder} cannot be written ({e.strerror}); "
                        f"choose another with --output-dir") from None


class OutputSlot:
    """Context manager reserving the next free number N in `folder` (above every existing one)."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)

    def __enter__(self) -> "OutputSlot":
        check_writable(self.folder)
        _clear_abandoned(self.folder)
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
        (self.partial / "pid").write_text(str(os.getpid()))
        self.number = number
        self.wav_path = self.folder / f"{number}.wav"
        self.json_path = self.folder / f"{number}.json"
        self.png_path = self.folder / f"{number}.png"
        return self

    def publish(self, wav: np.ndarray, sr: int, report: dict, png: bytes | None = None) -> None:
        """Write the files (and `png` as N.png) inside the reservation, then link them into place together."""
        save_audio(self.partial / self.wav_path.name, wav, sr)
        (self.partial / self.json_path.name).write_text(
            json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        paths = [self.wav_path, self.json_path]
        if png is not None:
            (self.partial / self.png_path.name).write_bytes(png)
            paths.append(self.png_path)
        for path in paths:      # temporary files are private (0600)
            os.chmod(self.partial / path.name, 0o666 & ~_UMASK)
        published = []
        try:
            for path in paths:
                os.link(self.partial / path.name, path)
                published.append(path)
        except BaseException:
            for path in published:
                path.unlink(missing_ok=True)
            raise

    def __exit__(self, *exc) -> None:
        shutil.rmtree(self.partial, ignore_errors=True)


def _numbers(folder: Path) -> list[int]:
    return [int(m.group(1)) for m in map(_NUMBERED.match, os.listdir(folder)) if m]


def _clear_abandoned(folder: Path) -> None:
    """Remove reservations whose process no longer exists (killed with SIGKILL, power loss)."""
    for partial in folder.glob(".*.partial"):
        try:
            pid = int((partial / "pid").read_text())
        except (OSError, ValueError):
            continue                    # being created right now, or not ours
        if not _alive(pid):
            shutil.rmtree(partial, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
