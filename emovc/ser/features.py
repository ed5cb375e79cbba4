"""Feature sets by name, a content-keyed cache, and parallel extraction over many files.

Every feature set takes a 16 kHz mono waveform and returns either one vector per clip
(kind 'functionals') or a (frames, dims) matrix (kind 'frames', for sequence models).
"""
import dataclasses
import hashlib
import importlib.util
import json
import logging
from dataclasses import dataclass, field
from functools import lru_cache, partial
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np

from emovc.core.audio import SR, atomic_path, load_audio
from emovc.core.config import from_dict
from emovc.core.paths import CACHE
from emovc.core.errors import AudioError, UserError
from emovc.core.execute import Executor
from emovc.core.registry import Registry
from emovc.core.weights import whisper_encoder, whisper_model
from emovc.ser.augment import augment

log = logging.getLogger(__name__)
MIN_DURATION = 0.3          # seconds; shorter clips carry too little speech to classify
SILENCE_PEAK = 1e-3         # a clip whose peak stays under this is treated as silence
CACHE_DIR = CACHE / "features"
FEATURES: Registry = Registry("feature set")


class FeatureSet:
    """Base of all feature sets; subclasses are dataclasses whose fields are the settings."""
    name: ClassVar[str]
    kind: ClassVar[Literal["functionals", "frames"]] = "functionals"
    parallel: ClassVar[bool] = True     # False: run in this process (the set uses threads itself)
    version: ClassVar[int] = 1          # bump when the computation changes, to invalidate caches

    def extract(self, wav: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def spec(self) -> dict:
        return {"name": self.name, "params": dataclasses.asdict(self)}

    def key(self) -> str:
        """Cache folder name: the set's name plus a hash of its settings and version."""
        text = json.dumps({**self.spec(), "version": self.version}, sort_keys=True)
        return f"{self.name}-{hashlib.sha1(text.encode()).hexdigest()[:10]}"


def register(name: str):
    def add(cls):
        cls.name = name
        return FEATURES.register(name)(dataclass(cls))
    return add


def check_speech(wav: np.ndarray, where: str = "audio") -> np.ndarray:
    """Reject clips that are too short or silent, with a message naming `where`."""
    if len(wav) < MIN_DURATION * SR:
        raise AudioError(f"{where}: only {len(wav) / SR:.2f} s long; need at least {MIN_DURATION} s of speech")
    if np.max(np.abs(wav)) < SILENCE_PEAK:
        raise AudioError(f"{where}: is silent (peak below {SILENCE_PEAK}); nothing to classify")
    return wav


# --- openSMILE -----------------------------------------------------------------------------

class _OpenSmile(FeatureSet):
    config: ClassVar[str]       # a .conf file in the wheel's opensmile/core/config folder

    def extract(self, wav):
        return smile_functionals(wav, self.config)


def smile_functionals(wav: np.ndarray, config: str) -> np.ndarray:
    """One functionals vector of a 16 kHz waveform: what `opensmile.Smile(...).process_signal`
    returns, through the wheel's ctypes binding alone (`import opensmile` also imports pandas
    and audformat, 1.5-2 s of a cold start). A test checks both give the same numbers."""
    lib, root = _smile_library()
    frames: list[np.ndarray] = []
    smile = lib.OpenSMILE()
    smile.initialize(config_file=str(root / config), options={
        "source": str(root / "shared" / "standard_external_wave_input.conf.inc"),
        "sink": str(root / "shared" / "standard_external_data_output_single.conf.inc"),
        "sinkLevel": "func", "sampleRate": SR, "nBits": 16,
        "bufferModeRbConf": str(root / "shared" / "BufferModeRb.conf.inc"),
        "frameModeFunctionalsConf": str(root / "shared" / "FrameModeFunctionals.conf.inc")})
    try:
        smile.external_sink_set_callback_ex("extsink", lambda data, meta: frames.append(data.copy()))
        smile.external_audio_source_write_data("extsource", bytes((wav * 32768).astype(np.int16)))
        smile.external_audio_source_set_eoi("extsource")
        smile.run()
    finally:
        smile.free()
    if not frames:
        raise AudioError("openSMILE found the clip too short to describe; give at least half a second")
    return np.asarray(frames[0], dtype=np.float32).ravel()


@lru_cache(maxsize=1)
def _smile_library():
    """opensmile/core/lib.py loaded on its own (not through the package), and the config folder."""
    spec = importlib.util.find_spec("opensmile")
    if spec is None or not spec.submodule_search_locations:
        raise UserError("openSMILE features need the opensmile package; run: pip install -r requirements.txt")
    core = Path(next(iter(spec.submodule_search_locations))) / "core"
    lib_spec = importlib.util.spec_from_file_location("_opensmile_lib", core / "lib.py")
    lib = importlib.util.module_from_spec(lib_spec)
    lib_spec.loader.exec_module(lib)
    return lib, core / "config"


@register("egemaps")
class EGeMAPS(_OpenSmile):
    """eGeMAPSv02: 88 prosodic, voice-quality and spectral functionals."""
    config = "egemaps/v02/eGeMAPSv02.conf"


@register("compare")
class ComParE(_OpenSmile):
    """ComParE_2016: 6373 functionals."""
    config = "compare/ComParE_2016.conf"


@register("is09_emotion")
class IS09(_OpenSmile):
    """INTERSPEECH 2009 Emotion Challenge set: 384 functionals."""
    config = "is09-13/IS09_emotion.conf"


@register("is10_paraling")
class IS10(_OpenSmile):
    """INTERSPEECH 2010 Paralinguistic Challenge set: 1582 functionals."""
    config = "is09-13/IS10_paraling_compat.conf"


@register("is13_compare")
class IS13(_OpenSmile):
    """INTERSPEECH 2013 ComParE set: 6373 functionals."""
    config = "is09-13/IS13_ComParE.conf"


# --- librosa -------------------------------------------------------------------------------

def librosa_frames(wav: np.ndarray, n_mfcc: int, hop_ms: float, spectral: bool) -> np.ndarray:
    """(frames, dims): MFCC with deltas; with `spectral`, also chroma, ZCR, RMS and spectral shape."""
    import librosa
    hop, n_fft = int(SR * hop_ms / 1000), 512
    S = np.abs(librosa.stft(wav, n_fft=n_fft, hop_length=hop)) ** 2
    mfcc = librosa.feature.mfcc(S=librosa.power_to_db(librosa.feature.melspectrogram(S=S, sr=SR)), n_mfcc=n_mfcc)
    width = min(9, mfcc.shape[1] - (1 - mfcc.shape[1] % 2))
    rows = [mfcc, librosa.feature.delta(mfcc, width=width), librosa.feature.delta(mfcc, order=2, width=width)]
    if spectral:
        mag = np.sqrt(S)
        rows += [librosa.feature.chroma_stft(S=S, sr=SR),
                 librosa.feature.zero_crossing_rate(wav, frame_length=n_fft, hop_length=hop)[:, :S.shape[1]],
                 librosa.feature.rms(S=mag, frame_length=n_fft),
                 np.log1p(librosa.feature.spectral_centroid(S=mag, sr=SR)),
                 np.log1p(librosa.feature.spectral_bandwidth(S=mag, sr=SR)),
                 np.log1p(librosa.feature.spectral_rolloff(S=mag, sr=SR)),
                 librosa.feature.spectral_contrast(S=mag, sr=SR),
                 librosa.feature.spectral_flatness(S=mag)]
    return np.concatenate(rows).T.astype(np.float32)


@register("librosa")
class LibrosaFunctionals(FeatureSet):
    """Mean and std over frames of MFCC+deltas, chroma, log-mel, ZCR, RMS and spectral shape."""
    n_mfcc: int = 20
    n_mels: int = 40

    def extract(self, wav):
        import librosa
        frames = librosa_frames(wav, self.n_mfcc, hop_ms=32, spectral=True)
        mel = librosa.power_to_db(librosa.feature.melspectrogram(y=wav, sr=SR, n_mels=self.n_mels, hop_length=512)).T
        frames = np.concatenate([frames, mel[:len(frames)]], axis=1)
        return np.concatenate([frames.mean(0), frames.std(0)]).astype(np.float32)


@register("librosa_frames")
class LibrosaFrames(FeatureSet):
    """Frame sequence of MFCC+deltas (and spectral descriptors) for CNN1D/LSTM models."""
    kind = "frames"
    n_mfcc: int = 20
    hop_ms: float = 20.0
    spectral: bool = True

    def extract(self, wav):
        return librosa_frames(wav, self.n_mfcc, self.hop_ms, self.spectral)


@register("logmel")
class LogMel(FeatureSet):
    """Log-mel spectrogram frames (dB)."""
    kind = "frames"
    n_mels: int = 64
    hop_ms: float = 10.0

    def extract(self, wav):
        import librosa
        mel = librosa.feature.melspectrogram(y=wav, sr=SR, n_fft=400, hop_length=int(SR * self.hop_ms / 1000),
                                             n_mels=self.n_mels)
        return librosa.power_to_db(mel, ref=1.0, top_db=None).T.astype(np.float32)


# --- Whisper encoder -----------------------------------------------------------------------

POOLINGS = {"mean": np.mean, "std": np.std, "max": np.max, "min": np.min}


@register("whisper")
class WhisperEncoder(FeatureSet):
    """Whisper encoder states of one layer pooled over time (CTranslate2, bundled weights).

    `layer` k reads the states after the k-th encoder layer (through the final layer norm);
    unset, the encoder's output. Middle layers carry more paralinguistic and less lexical
    information and generalise better across corpora (docs/ser.md).
    window 'real' encodes only the clip's own frames (fast); 'padded' encodes the 30 s
    window Whisper was trained on and pools over the clip's frames (slower, a little better).
    """
    parallel = False
    model: str = "base"
    pooling: list[str] = field(default_factory=lambda: ["mean", "std"])
    window: Literal["real", "padded"] = "real"
    layer: int | None = None

    def __post_init__(self):
        bad = [p for p in self.pooling if p not in POOLINGS]
        if bad or not self.pooling:
            raise UserError(f"whisper pooling {bad or '[]'} not understood; use some of: {', '.join(POOLINGS)}")
        if self.layer is not None and self.layer < 1:
            raise UserError(f"whisper layer {self.layer} not understood; use 1 for the first encoder layer, "
                            f"or leave it out for the encoder's output")

    def spec(self) -> dict:
        spec = super().spec()
        if self.layer is None:          # checkpoints from before layers existed stay loadable
            del spec["params"]["layer"]
        return spec

    def _encoder(self):
        """(CTranslate2 Whisper, feature extractor) whose encode() gives this set's layer."""
        if self.layer is None:
            model = whisper_model(self.model)       # the instance ASR uses, when it is the same
            return model.model, model.feature_extractor
        return whisper_encoder(self.model, self.layer)

    def encode(self, wav: np.ndarray) -> np.ndarray:
        """Encoder states (frames, dims) for the clip's real frames, 30 s windows at most per pass."""
        import ctranslate2
        encoder, fe = self._encoder()
        chunk = fe.n_samples                         # 30 s
        states = []
        for start in range(0, len(wav), chunk):
            piece = wav[start:start + chunk]
            real = int(np.ceil(len(piece) / fe.hop_length / 2))
            if self.window == "padded":
                mel = fe(piece, padding=chunk - len(piece))[:, :fe.nb_max_frames]
            else:
                mel = fe(piece, padding=0)
            out = encoder.encode(ctranslate2.StorageView.from_array(np.ascontiguousarray(mel[None])),
                                     to_cpu=True)
            states.append(np.asarray(out)[0, :max(real, 1)])
        return np.concatenate(states)

    def extract(self, wav):
        states = self.encode(wav)
        return np.concatenate([POOLINGS[p](states, axis=0) for p in self.pooling]).astype(np.float32)


# --- building, caching and batch extraction ------------------------------------------------

def build_feature_sets(specs: list, source: str = "features") -> list[FeatureSet]:
    """Feature sets from config specs (objects or dicts with `name` and `params`), validated."""
    sets = []
    for i, spec in enumerate(specs):
        name, params = (spec["name"], spec.get("params") or {}) if isinstance(spec, dict) else (spec.name, spec.params)
        sets.append(from_dict(FEATURES.get(name), params or {}, source, f"features[{i}].params."))
    if not sets:
        raise UserError(f"{source}: no feature sets given; set features to a list such as [{{name: whisper}}]")
    kinds = {s.kind for s in sets}
    if len(kinds) > 1 or (kinds == {"frames"} and len(sets) > 1):
        raise UserError(f"{source}: cannot fuse {', '.join(s.name for s in sets)}: fusion joins functionals "
                        f"sets only; a frame-sequence set must be used alone")
    return sets


def file_digest(path: Path) -> str:
    return hashlib.sha1(Path(path).read_bytes()).hexdigest()


@dataclass(frozen=True)
class Variant:
    """Which version of each file to describe: as recorded, or augmented copy `copy` drawn
    by `spec` (ser.config.Augment) from a generator seeded by (seed, file content, copy)."""
    spec: object = None
    copy: int = 0
    seed: int = 0

    def suffix(self) -> str:
        if self.spec is None:
            return ""
        text = json.dumps([dataclasses.asdict(self.spec), self.copy, self.seed], sort_keys=True)
        return f"-aug{self.copy}-{hashlib.sha1(text.encode()).hexdigest()[:8]}"

    def apply(self, wav: np.ndarray, digest: str) -> np.ndarray:
        if self.spec is None:
            return wav
        rng = np.random.default_rng([self.seed, self.copy, int(digest[:12], 16)])
        return augment(wav, self.spec, rng)


ORIGINAL = Variant()


def _cache_entry(fs: FeatureSet, path: str, cache_dir: Path | None, variant: Variant = ORIGINAL) -> Path | None:
    return None if cache_dir is None else cache_dir / fs.key() / f"{file_digest(path)}{variant.suffix()}.npy"


def _load_entry(entry: Path | None, path: str) -> np.ndarray | None:
    """A cached value, or None when absent; a corrupt entry (unreadable, not finite) is not trusted."""
    if entry is None or not entry.is_file():
        return None
    try:
        value = np.load(entry, allow_pickle=False)
        if value.dtype == np.float32 and value.size and np.all(np.isfinite(value)):
            return value
    except (ValueError, OSError, EOFError):
        pass
    log.warning("corrupt cache entry %s for %s; recomputing", entry, path)
    return None


def _extract_one(fs: FeatureSet, cache_dir: Path | None, variant: Variant,
                 path: str) -> tuple[np.ndarray | None, str | None]:
    """(features, None) of one file, written to the cache, or (None, the reason it cannot be used).

    Entries are published atomically (a temporary file renamed into place), so concurrent
    writers of one entry leave one complete file and readers never see a partial one."""
    try:
        wav, _ = load_audio(path, sr=SR)
        value = fs.extract(check_speech(variant.apply(wav, file_digest(path)), str(path)))
        if not np.all(np.isfinite(value)):
            raise AudioError(f"{path}: {fs.name} features are not finite (corrupt or degenerate audio)")
    except UserError as e:
        return None, str(e)
    if cache_dir is not None:
        with atomic_path(_cache_entry(fs, path, cache_dir, variant), overwrite=True) as tmp, open(tmp, "wb") as f:
            np.save(f, value.astype(np.float32), allow_pickle=False)
    return value, None


def extract_files(sets: list[FeatureSet], paths: list, cache_dir: Path | None = CACHE_DIR,
                  workers: int | None = None, progress: bool = True, scheduler: str | None = None,
                  variant: Variant = ORIGINAL) -> tuple[list, list[str]]:
    """Features for each path (fused across `sets`); a file that fails gives None plus a warning.

    Cached entries are read here; the rest run on `core.execute` (this process, a LocalCluster
    of `workers` (None: the cores), or the Dask cluster at `scheduler`). Returns (features, failures) where
    failures are one-line messages naming each skipped file.
    """
    paths = [str(p) for p in paths]
    results: list[list] = [[None] * len(sets) for _ in paths]
    failures: dict[int, str] = {}
    with Executor(scheduler, workers) as executor:
        for j, fs in enumerate(sets):
            for i in range(len(paths)):
                results[i][j] = None if i in failures else _cached(fs, paths[i], cache_dir, variant)
            todo = [i for i in range(len(paths)) if i not in failures and results[i][j] is None]
            done = executor.map(partial(_extract_one, fs, cache_dir, variant), [paths[i] for i in todo],
                                threaded=not fs.parallel, progress=progress, desc=fs.name)
            for i, (value, error) in zip(todo, done):
                if error is not None:
                    failures[i] = error
                    log.warning("skipped: %s", error)
                results[i][j] = value
    fused = [None if i in failures else (r[0] if len(r) == 1 else np.concatenate(r)) for i, r in enumerate(results)]
    return fused, [failures[i] for i in sorted(failures)]


def _cached(fs: FeatureSet, path: str, cache_dir: Path | None, variant: Variant = ORIGINAL) -> np.ndarray | None:
    """The cached value of a readable file, else None (missing files fail later, by name)."""
    try:
        return _load_entry(_cache_entry(fs, path, cache_dir, variant), path)
    except OSError:
        return None


def extract_wave(sets: list[FeatureSet], wav: np.ndarray, where: str = "audio") -> np.ndarray:
    """Fused features for one 16 kHz waveform (no cache)."""
    check_speech(wav, where)
    values = [fs.extract(wav) for fs in sets]
    return values[0] if len(values) == 1 else np.concatenate(values)
