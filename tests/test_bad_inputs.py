"""The bad-input matrix (docs/reliability.md): every CLI x bad or unusual input.

Each case runs a CLI's `main` in this process, through `core.cli.run` as the script does, so
model loads are shared; `test_the_matrix_holds_for_real_processes` runs one case per CLI as a
real subprocess to show the two agree. Each case asserts exit code 2, a last stderr line that
starts with 'error:' (holding the expected fragment), no traceback, nothing on stdout and no
new file or folder anywhere (the inputs, the working folder, the repository). Full disk: a
small tmpfs when this process may mount one (root), else ENOSPC injected at the writer.
"""
import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from emovc.asr import __main__ as asr_main
from emovc.commands import detect
from emovc.commands import predict
from emovc.commands import preprocess
from emovc.commands import timeline
from emovc.commands import train
from emovc.tts import __main__ as tts_main
from emovc.core.cli import run

ROOT = Path(__file__).resolve().parents[1]
CLIS = {"detect.py": detect.main, "predict.py": predict.main, "train.py": train.main,
        "preprocess.py": preprocess.main, "asr": asr_main.main, "tts": tts_main.main,
        "timeline.py": timeline.main}
COMMANDS = {"detect.py": ["detect.py"], "predict.py": ["predict.py"], "train.py": ["train.py"],
            "preprocess.py": ["preprocess.py"], "asr": ["-m", "emovc.asr"], "tts": ["-m", "emovc.tts"],
            "timeline.py": ["timeline.py"]}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """Bad files of every kind, made here (nothing committed)."""
    d = tmp_path_factory.mktemp("inputs")
    rng = np.random.default_rng(0)
    (d / "zero.wav").write_bytes(b"")
    (d / "notes.txt").write_text("not audio at all\n")
    (d / "folder").mkdir()
    (d / "a_file").write_text("")
    sf.write(d / "tenth.wav", 0.1 * np.sin(np.arange(1600) / 5.0).astype(np.float32), 16000)
    sf.write(d / "silence.wav", np.zeros(16000, np.float32), 16000)
    sf.write(d / "-dash.wav", np.zeros(16000, np.float32), 16000)
    (d / "binary.yaml").write_bytes(rng.integers(128, 256, 600, dtype=np.uint8).tobytes())
    (d / "utf16.yaml").write_text("ser:\n  config: configs/example.yaml\n", encoding="utf-16")
    (d / "big.yaml").write_text("# padding\n" * 120_000)
    (d / "tag.yaml").write_text("ser: !!python/object/apply:os.system ['touch pwned']\n")
    (d / "broken.yaml").write_text("ser: [unclosed\n")
    (d / "list.yaml").write_text("- a\n- b\n")
    (d / "latin1.csv").write_bytes("path,emotion\ncaf\xe9.wav,happy\n".encode("latin-1"))
    (d / "nopath.csv").write_text("file,emotion\nsilence.wav,happy\n")
    tampered = d / "tampered"
    shutil.copytree(ROOT / "checkpoints" / "whisper_egemaps_logreg", tampered)
    model = bytearray((tampered / "model.npz").read_bytes())
    model[-100] ^= 0xFF
    (tampered / "model.npz").write_bytes(bytes(model))
    return d


@pytest.fixture
def disk(tmp_path, monkeypatch, request):
    """A folder on a full disk ('full': not a byte free; 'nearly': 16 KiB free): a 1 MiB tmpfs
    when mounting is allowed, else ENOSPC injected into every audio and report write."""
    folder = tmp_path / "disk"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)],
                             capture_output=True).returncode == 0
    if mounted:
        spare = folder / "spare"
        spare.write_bytes(bytes(16 << 10))
        try:
            with open(folder / "ballast", "wb") as f:
                while True:
                    f.write(bytes(4096))
                    f.flush()
        except OSError as e:
            assert e.errno == errno.ENOSPC
        if request.param == "nearly":
            spare.unlink()
    else:
        def no_space(*args, **kwargs):
            raise OSError(errno.ENOSPC, "No space left on device")
        monkeypatch.setattr(sf.SoundFile, "write", no_space)
        monkeypatch.setattr(Path, "write_text", no_space)
    yield folder / "out"
    if mounted:
        subprocess.run(["umount", str(folder)], check=True)


def _snapshot(*folders: Path) -> set[Path]:
    return {p for folder in folders for p in folder.rglob("*")}


def _run(cli, args, capsys) -> tuple[int, str, str]:
    capsys.readouterr()
    with pytest.raises(SystemExit) as done:
        run(CLIS[cli], [str(a) for a in args])
    out, err = capsys.readouterr()
    return done.value.code, out, err


def _assert_one_error(code, out, err, fragment):
    assert code == 2, err
    last = err.strip().splitlines()[-1] if err.strip() else ""
    assert last.startswith("error: ") and "Traceback" not in err, err
    assert fragment in last, err
    assert out == ""


# (CLI, arguments, a fragment of the error line); {in} is the folder of bad inputs, {out} a
# fresh folder. Issue 13's item numbers in the ids.
CASES = [
    ("detect.py", ["{in}/missing.wav", "happy", "youngman"], "no such file"),
    ("detect.py", ["{in}/folder", "happy", "youngman"], "no audio files"),
    ("detect.py", ["{in}/zero.wav", "happy", "youngman"], "empty (0 bytes)"),
    ("detect.py", ["{in}/notes.txt", "happy", "youngman"], "not a readable audio file"),
    ("detect.py", ["{in}/tenth.wav", "happy", "youngman"], "need at least 0.3 s"),
    ("detect.py", ["{in}/silence.wav", "ecstatic", "youngman"], "unknown emotion 'ecstatic'"),
    ("detect.py", ["{in}/silence.wav", "happy", "grandpa"], "unknown speaker 'grandpa'"),
    ("detect.py", ["{in}/silence.wav", "happy", "youngman", "--intensity", "max"], "normal, strong"),
    ("detect.py", ["", "happy", "middlemale"], "argument AUDIO: empty path"),                      # 6
    ("detect.py", ["{in}/silence.wav", "happy", "youngman", "--output-dir", ""], "empty path"),   # 6
    ("detect.py", ["{in}/silence.wav", "happy", "youngman", "--output-dir", "{in}/a_file/out"], "cannot be written"),
    ("detect.py", ["{in}/silence.wav", "happy", "youngman", "--output-dir", "/proc/out"], "cannot be written"),
    ("detect.py", ["-dash.wav", "happy", "youngman"], "write it as ./-dash.wav"),                # 12
    ("detect.py", ["{in}/silence.wav", "happy", "youngman", "--config", "{in}/nope.yaml"], "config file not found"),
    ("detect.py", ["{in}/silence.wav", "happy", "youngman", "--config", "{in}/binary.yaml"], "not UTF-8"),  # 7
    ("detect.py", ["{in}/silence.wav", "happy", "youngman", "--config", "{in}/utf16.yaml"], "not UTF-8"),   # 7
    ("detect.py", ["{in}/silence.wav", "happy", "youngman", "--config", "{in}/silence.wav"], "silence.wav"),
    ("detect.py", ["{in}/silence.wav", "happy", "youngman", "--config", "{in}/big.yaml"], "larger than 1024 KiB"),  # 16
    ("detect.py", ["{in}/silence.wav", "happy", "youngman", "--config", "{in}/tag.yaml"], "not valid YAML"),
    ("detect.py", ["{in}/silence.wav", "happy", "youngman", "--config", "{in}/broken.yaml"], "line 2 not valid YAML"),
    ("detect.py", ["{in}/silence.wav", "happy", "youngman", "--config", "{in}/list.yaml"], "must be a mapping"),
    ("detect.py", ["{in}/silence.wav", "happy", "youngman", "--set", "asr.modle=tiny.en"], "unknown key 'asr.modle'"),
    ("detect.py", ["{in}/silence.wav", "happy", "youngman", "--set", "window_s=0"], "allowed: >= 1 and <= 600"),  # 9
    ("detect.py", ["{in}/silence.wav", "happy", "youngman", "--set", "window_s=-5"], "'window_s' is -5.0"),      # 9
    ("detect.py", ["{in}/silence.wav", "happy", "youngman", "--set", "check.max_wer=x"], "must be float"),
    ("detect.py", ["{in}/silence.wav", "happy", "youngman", "--set", "tts.engine=espeak"], "no speaker for engine 'espeak'"),
    ("detect.py", ["{in}/silence.wav", "happy", "youngman", "--keep-voice", "--text", "Hi."], "--keep-voice"),    # 5
    ("detect.py", ["{in}/silence.wav", "happy", "youngman", "--text", " "], "--text is empty"),
    ("detect.py", ["{in}/latin1.csv", "happy", "youngman"], "manifest is not UTF-8 text (byte 0xe9"),           # 7
    ("detect.py", ["{in}/nopath.csv", "happy", "youngman"], "needs a 'path' column"),
    ("detect.py", ["{in}/silence.wav", "happy", "youngman", "--json", "--quiet"], "not allowed with argument"),
    ("predict.py", ["{in}/missing.wav", "{in}/notes.txt"], "none of the 2 inputs could be classified; the first: "),  # 13
    ("predict.py", [""], "empty path"),
    ("predict.py", ["--config", "{in}/binary.yaml", "{in}/silence.wav"], "not UTF-8"),
    ("predict.py", ["--config", "{in}/tampered", "{in}/silence.wav"], "does not match the sha256"),
    ("predict.py", ["{in}/silence.wav", "--set", "model.params.C=-1"], "'model.params.C' is -1.0; allowed: > 0"),  # 9
    ("train.py", ["--config", "{in}/utf16.yaml"], "not UTF-8"),
    ("train.py", ["--config", "{in}/big.yaml"], "larger than"),
    ("train.py", ["--config", ""], "empty path"),
    ("train.py", ["--config", "configs/svm.yaml", "--set", "eval.folds=1"], "'eval.folds' is 1; allowed: >= 2"),  # 9
    ("train.py", ["--config", "configs/svm.yaml", "--set", "model.params.C=-1"], "allowed: > 0"),             # 9
    ("train.py", ["--config", "configs/svm.yaml", "--set", "data.sources=[{in}/latin1.csv]"], "not UTF-8"),    # 7
    ("train.py", ["--config", "configs/svm.yaml", "--set", "train.epochs=0"], "allowed: >= 1"),
    ("preprocess.py", ["--config", "{in}/silence.wav"], "silence.wav"),
    ("preprocess.py", ["--config", "configs/svm.yaml", "--set", "train.workers=0"], "allowed: >= 1 and <= 64"),
    ("asr", ["", "--json"], "empty path"),
    ("asr", ["{in}/notes.txt"], "not a readable audio file"),
    ("asr", ["{in}/missing.wav"], "no such file"),
    ("asr", ["-dash.wav"], "write it as ./-dash.wav"),
    ("asr", ["{in}/silence.wav", "--config", "{in}/binary.yaml"], "not UTF-8"),
    ("tts", ["Hi.", "-o", ""], "empty path"),
    ("tts", ["", "-o", "{out}/x.wav"], "the text is empty"),
    ("tts", ["Hi.", "-o", "/proc/x.wav"], "output folder /proc cannot be written"),                 # 10
    ("tts", ["Hi.", "-o", "{in}/a_file/x.wav"], "cannot be written"),
    ("tts", ["Hi.", "-o", "{out}/x.aiff"], "cannot write '.aiff' files; name it .wav"),              # 15
    ("tts", ["Hi.", "-o", "{in}/silence.wav"], "already exists"),
    ("tts", ["Hi.", "-o", "{out}/x.wav", "--voices", "{in}/utf16.yaml"], "not UTF-8"),
    ("tts", ["Hi.", "-o", "{out}/x.wav", "--engine", "espeak"], "no speaker for engine 'espeak'"),
]


def case_ids(cases) -> list[str]:
    """'detect.py-3': the script and the case's number among that script's cases."""
    seen: dict[str, int] = {}
    ids = []
    for cli, *_ in cases:
        seen[cli] = seen.get(cli, 0) + 1
        ids.append(f"{cli}-{seen[cli]}")
    return ids


@pytest.mark.parametrize("cli, args, fragment", CASES, ids=case_ids(CASES))
def test_bad_input_is_one_error_line_and_leaves_nothing(cli, args, fragment, inputs, tmp_path, monkeypatch, capsys):
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(inputs / "-dash.wav", work)
    monkeypatch.chdir(work)
    args = [a.replace("{in}", str(inputs)).replace("{out}", str(tmp_path / "out")) for a in args]
    before, repo = _snapshot(inputs, tmp_path), set(ROOT.iterdir())
    _assert_one_error(*_run(cli, args, capsys), fragment)
    assert _snapshot(inputs, tmp_path) == before and set(ROOT.iterdir()) == repo


@pytest.mark.parametrize("disk", ["full", "nearly"], indirect=True)
def test_full_disk_is_one_error_line_and_leaves_nothing(disk, ravdess_clip, capsys):      # item 2
    before = _snapshot(disk.parent)
    code, out, err = _run("detect.py", [ravdess_clip, "calm", "middlemale", "--text", "Hello.", "--no-check",
                                        "--output-dir", disk], capsys)
    _assert_one_error(code, out, err, "no space left on device; free space or choose another --output-dir")
    code, out, err = _run("tts", ["Hello.", "--speaker", "middlemale", "-o", disk.parent / "x.wav"], capsys)
    _assert_one_error(code, out, err, "no space left on device; free space or choose another -o")
    assert _snapshot(disk.parent) == before            # no reservation, no N.wav, no out/ folder


def test_a_failed_run_creates_no_output_folder(inputs, tmp_path, capsys):                 # item 11
    out = tmp_path / "a" / "b" / "c"
    code, stdout, err = _run("detect.py", [inputs / "silence.wav", "happy", "middlemale", "--no-check",
                                           "--output-dir", out], capsys)
    _assert_one_error(code, stdout, err, "no speech found")
    assert list(tmp_path.iterdir()) == []


def test_keep_voice_on_silence_is_refused_and_publishes_nothing(inputs, tmp_path, capsys):   # item 3
    code, out, err = _run("detect.py", [inputs / "silence.wav", "sad", "youngman", "--keep-voice",
                                        "--output-dir", tmp_path], capsys)
    _assert_one_error(code, out, err, "no speech found (silent or too quiet), so there is no voice to keep")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("cli, index", [("detect.py", 12), ("predict.py", 1), ("train.py", 0),
                                        ("preprocess.py", 0), ("asr", 0), ("tts", 2)])
def test_the_matrix_holds_for_real_processes(cli, index, inputs, tmp_path):
    case = [c for c in CASES if c[0] == cli][index]
    args = [a.replace("{in}", str(inputs)).replace("{out}", str(tmp_path / "out")) for a in case[1]]
    shutil.copy(inputs / "-dash.wav", tmp_path)
    done = subprocess.run([sys.executable, *[str(ROOT / c) if c.endswith(".py") else c for c in COMMANDS[cli]],
                           *args], cwd=tmp_path, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    _assert_one_error(done.returncode, done.stdout, done.stderr, case[2])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["-dash.wav"]
