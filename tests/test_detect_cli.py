"""detect.py as a user runs it: exit codes, one-line errors without tracebacks, Ctrl-C, the
bundled sample. Each case is a real subprocess; the error cases stop before any model loads."""
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from emovc.asr.evaluate import wer

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "sample.wav"


def _detect(*args, cwd=ROOT, **kwargs):
    return subprocess.run([sys.executable, str(ROOT / "detect.py"), *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, **kwargs)


def _one_line_error(result, *fragments):
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    assert result.stdout == ""


def test_help():
    result = _detect("--help")
    assert result.returncode == 0 and "--keep-voice" in result.stdout and "SPEAKER" in result.stdout


@pytest.fixture
def inputs(tmp_path):
    (tmp_path / "empty_folder").mkdir()
    (tmp_path / "zero.wav").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not audio at all\n")
    sf.write(tmp_path / "tenth.wav", 0.1 * np.sin(np.arange(1600) / 5.0).astype(np.float32), 16000)
    sf.write(tmp_path / "ok.wav", np.zeros(16000, np.float32), 16000)
    (tmp_path / "a_file").write_text("")
    return tmp_path


@pytest.mark.parametrize("args, fragments", [
    (["missing.wav", "happy", "youngman"], ["missing.wav", "no such file"]),
    (["empty_folder", "happy", "youngman"], ["empty_folder", "no audio files"]),
    (["zero.wav", "happy", "youngman"], ["zero.wav", "empty (0 bytes)"]),
    (["notes.txt", "happy", "youngman"], ["notes.txt", "not a readable audio file", "use WAV"]),
    (["tenth.wav", "happy", "youngman"], ["tenth.wav", "0.10 s long", "at least 0.3 s"]),
    (["ok.wav", "ecstatic", "youngman"], ["unknown emotion 'ecstatic'", "happy", "surprised", "same"]),
    (["ok.wav", "happy", "grandpa"], ["unknown speaker 'grandpa'", "youngwoman", "middlemale"]),
    (["ok.wav", "happy", "youngman", "--output-dir", "a_file/out"], ["a_file/out", "cannot be written"]),
    (["ok.wav", "happy", "youngman", "--intensity", "max"], ["intensity", "normal, strong"]),
    (["ok.wav", "happy", "youngman", "--set", "asr.modle=tiny.en"], ["unknown key 'asr.modle'"]),
    (["ok.wav", "happy", "youngman", "--scheduler", "localhost"], ["'localhost' is not a Dask address"]),
])
def test_bad_input_is_one_line_error_with_nothing_written(inputs, args, fragments):
    result = _detect(*args, cwd=inputs)
    _one_line_error(result, *fragments)
    assert not (inputs / "output").exists() or list((inputs / "output").iterdir()) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_output_folder(inputs):
    locked = inputs / "locked"
    locked.mkdir(mode=0o555)
    _one_line_error(_detect(inputs / "ok.wav", "happy", "youngman", "--output-dir", locked), "cannot be written")


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "kill"])
def test_interrupt_during_synthesis_leaves_nothing(ravdess_clip, tmp_path, stop):
    out = tmp_path / "out"
    long_text = " ".join(["This sentence is long enough to keep the synthesiser busy for a while."] * 12)
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "detect.py"), str(ravdess_clip), "sad", "youngwoman",
         "--text", long_text, "--output-dir", str(out)], cwd=ROOT, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))   # also when started in the background
    for line in process.stderr:
        if line.startswith("speaking as"):
            break
    process.send_signal(stop)
    rest = process.stderr.read()
    assert process.wait(60) == 130
    assert rest.strip() == "error: interrupted; nothing partial was written"
    assert not out.exists()                     # no N.wav, N.json, reservation, temporary file or folder


def test_readme_command_on_the_bundled_sample(tmp_path):
    assert SAMPLE.is_file() and SAMPLE.stat().st_size < 200_000
    result = _detect(SAMPLE, "HAPPY", "youngwoman", "--output-dir", tmp_path / "out", "--json", "--no-check")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert Path(report["output"]).is_file() and report["target_emotion"] == "happy"
    assert "loading emotion recogniser" in result.stderr      # progress while models load
    stages = result.stderr.splitlines()                       # what runs, then how long it took
    assert stages.index("transcribing…") < stages.index(f"asr took {report['timings_s']['asr']:.1f} s")
    assert f"load_models took {report['timings_s']['load_models']:.1f} s" in stages
    assert "Traceback" not in result.stderr


def test_fast_config_runs_with_whisper_tiny(tmp_path):
    result = _detect(SAMPLE, "sad", "middlemale", "--config", "configs/detect_fast.yaml",
                     "--output-dir", tmp_path, "--json", "--no-check")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["models"]["asr"]["model"] == "tiny.en" and report["models"]["tts"]["engine"] == "piper"
    assert wer("We waited all afternoon, but nobody came to the meeting.", report["transcript"]) <= 0.2


def test_thirty_minute_input_in_bounded_memory(ravdess_clip, tmp_path):
    """30 min of quiet room noise with the clip at both ends, made here (not committed).

    --text skips ASR: its long-input windowing is the ASR stage's own (tests/test_asr*), and
    30 min of it costs minutes on 2 shared cores. SER windowing, synthesis and the memory
    bound of detect.py itself are what this checks.
    """
    from emovc.core.audio import load_audio
    wav, sr = load_audio(ravdess_clip)
    long = tmp_path / "long.wav"
    noise = np.random.default_rng(0)
    with sf.SoundFile(long, "w", sr, 1, "PCM_16") as f:
        f.write(wav)
        for _ in range(60):
            f.write((noise.standard_normal(30 * sr) * 1e-4).astype(np.float32))
        f.write(wav)
    process = subprocess.Popen([sys.executable, str(ROOT / "detect.py"), str(long), "calm", "youngman",
                                "--text", "Kids are talking by the door.", "--json",
                                "--output-dir", str(tmp_path / "out")],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    stdout = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    report = json.loads(stdout)
    assert report["input"]["duration_s"] == pytest.approx(1808.2, abs=1)
    assert report["detected_emotion"]["label"] in report["detected_emotion"]["probabilities"]
    assert report["check"]["wer"] <= 0.2
    assert usage.ru_maxrss / 1024 < 1500                         # MB, the memory target


def test_parallel_batch_numbers_are_unique_gap_free_and_as_in_one_process(shared_data, tmp_path):
    """A 2-worker LocalCluster batch publishes the same input -> number map and labels as one process."""
    clips = sorted((shared_data / "ravdess" / "Actor_03").glob("03-01-0[2-5]-01-01-01-03.flac"))
    (tmp_path / "in").mkdir()
    for clip in clips:
        (tmp_path / "in" / clip.name).symlink_to(clip)
    runs = {}
    for workers in (1, 2):
        out = tmp_path / f"out{workers}"
        out.mkdir()
        (out / "3.wav").write_bytes(b"an older output")          # numbering continues above it
        result = _detect(tmp_path / "in", "same", "middlemale", "--text", "Hello there.", "--no-check",
                         "--json", "--workers", workers, "--output-dir", out)
        assert result.returncode == 0, result.stderr
        runs[workers] = json.loads(result.stdout)
        names = sorted(p.name for p in out.iterdir())
        assert names == sorted(["3.wav"] + [f"{n}.{ext}" for n in range(4, 4 + len(clips)) for ext in ("wav", "json")])
        assert (out / "3.wav").read_bytes() == b"an older output"
    one, two = ([(Path(r["input"]["path"]).name, Path(r["output"]).name, r["detected_emotion"]["label"])
                 for r in runs[w]] for w in (1, 2))
    assert one == two and len(one) == len(clips)
