"""core.audio: formats that must keep working, the [-1, 1] promise, mixing, the one writer."""
import errno
import subprocess

import numpy as np
import pytest
import soundfile as sf

from emovc.core.audio import check_writable, load_audio, save_audio
from emovc.core.errors import AudioError, UserError

SR = 16000
TONE = (0.5 * np.sin(2 * np.pi * 220 * np.arange(SR) / SR)).astype(np.float32)


@pytest.mark.parametrize("subtype, sr, channels", [("PCM_U8", 8000, 1), ("PCM_24", 96000, 2),
                                                   ("FLOAT", 44100, 6), ("PCM_16", 22050, 1)])
def test_formats_rates_and_channels_read_as_mono_float(tmp_path, subtype, sr, channels):
    path = tmp_path / "x.wav"
    tone = (0.5 * np.sin(2 * np.pi * 220 * np.arange(sr) / sr)).astype(np.float32)
    sf.write(path, np.tile(tone[:, None], (1, channels)), sr, subtype=subtype)
    wav, got = load_audio(path, sr=SR)
    assert got == SR and wav.dtype == np.float32 and wav.ndim == 1
    assert len(wav) == SR and np.abs(wav).max() == pytest.approx(0.5, abs=0.02)


def test_float_samples_above_one_are_scaled_into_range(tmp_path):
    sf.write(tmp_path / "hot.wav", 8 * TONE, SR, subtype="FLOAT")
    wav, _ = load_audio(tmp_path / "hot.wav")
    assert np.abs(wav).max() == pytest.approx(1.0, abs=1e-6)
    assert np.corrcoef(wav, TONE)[0, 1] > 0.999          # the same signal, only scaled


def test_anti_phase_stereo_keeps_a_channel_instead_of_cancelling(tmp_path):
    sf.write(tmp_path / "anti.wav", np.stack([TONE, -TONE], axis=1), SR, subtype="FLOAT")
    wav, _ = load_audio(tmp_path / "anti.wav")
    assert np.sqrt(np.mean(wav ** 2)) == pytest.approx(np.sqrt(np.mean(TONE ** 2)), rel=1e-3)
    sf.write(tmp_path / "pan.wav", np.stack([TONE, 0.5 * TONE], axis=1), SR, subtype="FLOAT")
    assert np.allclose(load_audio(tmp_path / "pan.wav")[0], 0.75 * TONE, atol=1e-6)   # ordinary stereo: the mean


@pytest.mark.parametrize("ext, fmt", [(".wav", "WAV"), (".flac", "FLAC"), (".ogg", "OGG"), (".mp3", "MP3")])
def test_save_audio_writes_the_format_its_extension_names_from_chunks(tmp_path, ext, fmt):
    path = save_audio(tmp_path / f"x{ext}", (TONE[i:i + 4000] for i in range(0, SR, 4000)), SR)
    assert sf.info(str(path)).format == fmt
    wav, _ = load_audio(path)
    assert abs(len(wav) - SR) < 0.1 * SR                 # mp3 pads a little
    assert [p.name for p in tmp_path.iterdir()] == [f"x{ext}"]


def test_save_audio_refuses_unknown_extensions_empty_audio_and_overwriting(tmp_path):
    with pytest.raises(AudioError, match="cannot write '.aiff' files; name it .wav"):
        save_audio(tmp_path / "x.aiff", TONE, SR)
    with pytest.raises(AudioError, match="empty audio"):
        save_audio(tmp_path / "x.wav", iter([]), SR)
    save_audio(tmp_path / "x.wav", TONE, SR)
    with pytest.raises(FileExistsError):
        save_audio(tmp_path / "x.wav", -TONE, SR)
    assert [p.name for p in tmp_path.iterdir()] == ["x.wav"]


def test_disk_errors_are_one_line_user_errors_and_leave_nothing(tmp_path, monkeypatch):
    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(sf.SoundFile, "write", no_space)
    with pytest.raises(UserError, match=r"cannot write .*x.wav: no space left on device; free space or choose -o"):
        save_audio(tmp_path / "x.wav", TONE, SR, where="-o")
    assert list(tmp_path.iterdir()) == []


def test_check_writable_creates_nothing(tmp_path):
    check_writable(tmp_path / "a" / "b")
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "file").write_text("")
    with pytest.raises(UserError, match="cannot be written .*choose another with --output-dir"):
        check_writable(tmp_path / "file" / "out")


def test_a_read_only_file_system_is_named(tmp_path):
    locked = tmp_path / "ro"
    locked.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(locked)],
                      capture_output=True).returncode:
        pytest.skip("cannot mount a read-only tmpfs here (needs root)")
    try:
        with pytest.raises(UserError, match="cannot be written \\(read-only file system\\)"):
            check_writable(locked / "out")
    finally:
        subprocess.run(["umount", str(locked)], check=True)


def test_a_killed_runs_write_probe_is_swept_a_live_ones_kept(tmp_path):
    """check_writable's probe file, left by a run killed in its microsecond, goes with the next
    check; one a live process holds (locked) stays."""
    import fcntl
    stale, held = tmp_path / ".write-test-stale", tmp_path / ".write-test-held"
    stale.write_bytes(b"")
    held.write_bytes(b"")
    with open(held) as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        check_writable(tmp_path)
        assert sorted(p.name for p in tmp_path.iterdir()) == [".write-test-held"]
