"""pyproject.toml and emovc.core.paths: the wheel would carry every module and data file the code reads,
every console command points at a real entry, and shipped configs are found from any folder."""
import fnmatch
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from emovc.core import paths
from emovc.core.config import resolve_path

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
SETUP = PROJECT["tool"]["setuptools"]
COMMANDS = ["detect", "predict", "preprocess", "train", "timeline", "app"]


def _folder(package: str) -> Path:
    """Where setuptools takes `package` from (package-dir mapping, else its dotted path)."""
    mapped = SETUP.get("package-dir", {})
    return ROOT / mapped[package] if package in mapped else ROOT.joinpath(*package.split("."))


def _source_files() -> list[Path]:
    tracked = subprocess.run(["git", "-C", str(ROOT), "ls-files", "emovc", "configs", "checkpoints"],
                             capture_output=True, text=True, check=True).stdout.split()
    return [ROOT / name for name in tracked]


def test_every_package_folder_is_listed():
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "emovc").rglob("__init__.py")}
    assert on_disk <= set(SETUP["packages"]), f"missing from pyproject packages: {on_disk - set(SETUP['packages'])}"
    assert all(_folder(package).is_dir() for package in SETUP["packages"])


def test_every_tracked_file_goes_into_the_wheel():
    data = SETUP["package-data"]
    owners = sorted(((package, _folder(package)) for package in SETUP["packages"]),
                    key=lambda item: len(item[1].parts), reverse=True)     # the innermost package owns a file
    missing = []
    for path in _source_files():
        package, folder = next((p, f) for p, f in owners if f in path.parents)
        name = path.relative_to(folder).as_posix()
        if path.suffix == ".py" and "/" not in name:
            continue
        if not any(fnmatch.fnmatch(name, pattern) for pattern in data.get(package, [])):
            missing.append(path.relative_to(ROOT).as_posix())
    assert not missing, f"not in the wheel: {missing}"


def test_console_commands_point_at_entries_and_the_scripts_call_the_same():
    scripts = PROJECT["project"]["scripts"]
    assert {f"emovc-{name}" for name in COMMANDS} <= set(scripts)
    for name, target in scripts.items():
        module, function = target.split(":")
        __import__(module)
        assert callable(getattr(sys.modules[module], function)), name
    for name in COMMANDS:
        assert f"from emovc.commands.{name} import entry" in (ROOT / f"{name}.py").read_text(encoding="utf-8")


@pytest.mark.parametrize("command", [["detect.py"], ["-m", "emovc.tts"]])
def test_commands_run_from_another_folder(tmp_path, command):
    script = [str(ROOT / command[0])] if command[0].endswith(".py") else command
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, *script, "--help"], cwd=tmp_path, capture_output=True, text=True,
                          env=env, timeout=60)
    assert done.returncode == 0 and "usage:" in done.stdout, done.stderr
    assert list(tmp_path.iterdir()) == []


def test_shipped_configs_are_found_from_any_folder(tmp_path, monkeypatch):
    assert paths.IN_CHECKOUT and paths.ROOT == ROOT
    monkeypatch.chdir(tmp_path)
    assert resolve_path("configs/detect.yaml") == ROOT / "configs" / "detect.yaml"
    assert resolve_path("emovc/tts/voices_v1.yaml") == ROOT / "emovc" / "tts" / "voices_v1.yaml"   # detect_fast's
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "detect.yaml").write_text("mine")
    assert resolve_path("configs/detect.yaml") == Path("configs/detect.yaml")       # the user's own first
