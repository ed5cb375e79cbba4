"""Numbered outputs of detect.py: next free number, atomic publishing, concurrency, clean-up."""
import errno
import json
import multiprocessing
import os
import subprocess
import sys
import time

import numpy as np
import pytest
import soundfile as sf

from emovc.convert.outputs import OutputSlot, check_writable
from emovc.core.errors import UserError

SR = 16000


def _publish(folder, value):
    wav = np.full(SR // 10, value, dtype=np.float32)
    with OutputSlot(folder) as slot:
        slot.save_audio(wav, SR)
        slot.publish({"value": value, "output": str(slot.wav_path)})


def test_numbers_follow_the_highest_existing_output(tmp_path):
    _publish(tmp_path, 0.1)
    _publish(tmp_path, 0.2)
    (tmp_path / "7.wav").write_bytes(b"someone else's")     # never overwritten, numbering goes past it
    _publish(tmp_path, 0.3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["1.json", "1.wav", "2.json", "2.wav",
                                                          "7.wav", "8.json", "8.wav"]
    assert (tmp_path / "7.wav").read_bytes() == b"someone else's"
    assert json.loads((tmp_path / "8.json").read_text())["value"] == 0.3


def test_eight_concurrent_writers_get_eight_distinct_complete_outputs(tmp_path):
    values = [round(0.05 * (i + 1), 2) for i in range(8)]
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_publish, args=(tmp_path, v)) for v in values]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert all(w.exitcode == 0 for w in workers)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(f"{n}.{ext}" for n in range(1, 9) for ext in ("wav", "json"))
    seen = []
    for n in range(1, 9):
        report = json.loads((tmp_path / f"{n}.json").read_text())
        wav, _ = sf.read(tmp_path / f"{n}.wav", dtype="float32")
        assert report["output"] == str(tmp_path / f"{n}.wav")
        assert wav.mean() == pytest.approx(report["value"], abs=1e-3)   # the json belongs to its wav
        seen.append(report["value"])
    assert sorted(seen) == values


def test_an_error_before_publishing_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError):
        with OutputSlot(tmp_path):
            raise RuntimeError("synthesis failed")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_second_link_removes_the_first(tmp_path, monkeypatch):
    real_link = os.link

    def link_then_fail(src, dst):
        if str(dst).endswith(".json"):
            raise KeyboardInterrupt      # Ctrl-C between the two links
        real_link(src, dst)

    monkeypatch.setattr(os, "link", link_then_fail)
    with pytest.raises(KeyboardInterrupt):
        _publish(tmp_path, 0.5)
    assert list(tmp_path.iterdir()) == []


def test_a_reservation_of_a_killed_process_is_cleared(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    abandoned = tmp_path / ".1.partial"
    abandoned.mkdir()
    (abandoned / "pid").write_text(dead)
    (abandoned / "1.wav").write_bytes(b"half")
    _publish(tmp_path, 0.1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["1.json", "1.wav"]   # its number is free again
    assert sf.read(tmp_path / "1.wav")[0].mean() == pytest.approx(0.1, abs=1e-3)


def test_unwritable_output_folder_is_a_one_line_error(tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    with pytest.raises(UserError, match="cannot be written.*--output-dir"):
        check_writable(blocker / "out")


def test_a_failing_pid_write_leaves_no_reservation(tmp_path, monkeypatch):
    """Issue 13: a full disk used to leave `.1.partial/pid` (0 bytes) that later runs skipped forever."""
    real_write = type(tmp_path).write_text

    def full(self, *args, **kwargs):
        if self.name == "pid":
            real_write(self, "")                    # the file is created, its content does not fit
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(self, *args, **kwargs)

    monkeypatch.setattr(type(tmp_path), "write_text", full)
    with pytest.raises(UserError, match="no space left on device; free space or choose another --output-dir"):
        _publish(tmp_path / "out", 0.1)
    assert list(tmp_path.iterdir()) == []          # neither the reservation nor the folder it made
    monkeypatch.undo()
    _publish(tmp_path / "out", 0.2)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["1.json", "1.wav"]


def test_an_old_reservation_without_a_pid_is_cleared(tmp_path):
    for n, age in ((1, 3600), (2, 0)):
        (tmp_path / f".{n}.partial").mkdir()
        os.utime(tmp_path / f".{n}.partial", (time.time() - age,) * 2)
    _publish(tmp_path, 0.1)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".2.partial", "3.json", "3.wav"]  # 2: still being made


def test_a_failed_run_removes_the_folders_it_created(tmp_path):
    (tmp_path / "a").mkdir()
    with pytest.raises(RuntimeError):
        with OutputSlot(tmp_path / "a" / "b" / "c"):
            raise RuntimeError("synthesis failed")
    assert [p.name for p in tmp_path.iterdir()] == ["a"] and list((tmp_path / "a").iterdir()) == []
