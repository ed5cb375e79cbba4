"""The experiment schema shared by preprocess.py, train.py and predict.py.

A YAML file in configs/ fills these dataclasses; `core.config.load_config` validates every
key, and any key can be overridden with `--set section.key=value`. Feature-set and model
`params` are validated against the chosen set's or model's own settings when they are built.
"""
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from emovc.core.config import Range, load_config, resolve_path
from emovc.core.errors import ConfigError
from emovc.ser.models import build_model


def _check_range(section: str, name: str, pair: list[float], low: float, high: float) -> None:
    if len(pair) != 2 or not low <= pair[0] <= pair[1] <= high:
        raise ConfigError(f"key '{section}.{name}' is {pair}; give [min, max] with {low} <= min <= max <= {high}")


@dataclass
class Augment:
    """Augmented training copies of each real clip (ser/augment.py); never of synthetic speech."""
    copies: int = 0                             # copies per clip; 0 = no augmentation
    speed_prob: float = 0.3
    speed: list[float] = field(default_factory=lambda: [0.92, 1.08])     # pitch + tempo factor
    reverb_prob: float = 0.4
    rt60_s: list[float] = field(default_factory=lambda: [0.2, 0.9])
    noise_prob: float = 0.6
    snr_db: list[float] = field(default_factory=lambda: [5.0, 30.0])
    gain_db: list[float] = field(default_factory=lambda: [-18.0, 6.0])
    codec_prob: float = 0.4                     # MP3 or Opus at phone-like bitrates

    def __post_init__(self):
        if not 0 <= self.copies <= 10:
            raise ConfigError(f"key 'data.augment.copies' is {self.copies}; choose 0 to 10")
        for name in ("speed_prob", "reverb_prob", "noise_prob", "codec_prob"):
            if not 0 <= getattr(self, name) <= 1:
                raise ConfigError(f"key 'data.augment.{name}' is {getattr(self, name)}; choose 0 to 1")
        for name, low, high in (("speed", 0.5, 2.0), ("rt60_s", 0.05, 3.0), ("snr_db", -10.0, 60.0),
                                ("gain_db", -40.0, 20.0)):
            _check_range("data.augment", name, getattr(self, name), low, high)


@dataclass
class Data:
    sources: list[Path]                         # manifest.csv files or folders; several = multi-corpus
    classes: list[str] | None = None            # class set; default: the 8 emotions that occur
    label_map: dict[str, str] = field(default_factory=dict)    # e.g. {calm: neutral}
    normalise: Literal["none", "speaker"] = "none"   # 'speaker': standardise features per speaker; the
                                                     # model then classifies batches of one speaker's clips
    augment: Augment = field(default_factory=Augment)


@dataclass
class FeatureSpec:
    name: str                                   # a feature set from ser.features.FEATURES
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Model:
    name: str                                   # a model from ser.models.MODELS
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Train:
    epochs: Annotated[int, Range(1)] = 30                 # Keras models only
    batch_size: Annotated[int, Range(1)] = 32
    learning_rate: Annotated[float, Range(0, 1, low_open=True)] = 1e-3
    workers: Annotated[int | None, Range(1, 64)] = None   # feature-extraction processes (None: the cores)
    scheduler: str | None = None                # or an existing Dask cluster: tcp://HOST:8786
    balance: Literal["class", "corpus"] = "class"   # 'corpus': every corpus weighs the same in each class


@dataclass
class Eval:
    scheme: Literal["group_kfold", "holdout", "random"] = "group_kfold"   # by speaker unless 'random'
    folds: Annotated[int, Range(2)] = 6
    test_speakers: list[str] = field(default_factory=list)    # for 'holdout'
    cross_corpus: bool = True                   # with several corpora, also leave each corpus out in turn


@dataclass
class Calibration:
    method: Literal["none", "temperature"] = "temperature"
    fit_on: Literal["speakers", "corpora", "both"] = "speakers"    # held-out speakers', corpora's or both's predictions
    novelty: bool = False                       # T grows with how unlike the training clips a clip is
    uncertain_below: float = 0.0                # top probability under this: the label is 'uncertain'

    def __post_init__(self):
        if not 0 <= self.uncertain_below < 1:
            raise ConfigError(f"key 'calibration.uncertain_below' is {self.uncertain_below}; choose 0 (never) to below 1")
        if self.novelty and self.method == "none":
            raise ConfigError("key 'calibration.novelty' needs calibration.method=temperature; set one of them")


@dataclass
class Output:
    results: Path = Path("results")             # results/<name>/ gets metrics, plot, config
    checkpoint: Path | None = None              # where the final model is written (a folder)
    cache: Path = Path("cache/features")        # feature cache, keyed by file content and settings


@dataclass
class Experiment:
    name: str
    data: Data
    features: list[FeatureSpec]
    model: Model
    seed: Annotated[int, Range(0, 2**32 - 1)] = 0
    train: Train = field(default_factory=Train)
    eval: Eval = field(default_factory=Eval)
    calibration: Calibration = field(default_factory=Calibration)
    output: Output = field(default_factory=Output)


def load_experiment(path, overrides=()) -> Experiment:
    """The validated experiment; data sources are checked only by `data_sources` (predict needs none)."""
    cfg = load_config(path, Experiment, overrides)
    cfg.source = str(resolve_path(path))
    build_model(cfg.model, cfg.source)      # model params are checked now, before any feature is made
    return cfg


def data_sources(cfg: Experiment) -> list[Path]:
    """The configured data sources, resolved; a missing one names the config file and key."""
    found = []
    for i, p in enumerate(cfg.data.sources):
        path = resolve_path(p)
        if not path.exists():
            raise ConfigError(f"{cfg.source}: key 'data.sources[{i}]': file or folder '{p}' not found")
        found.append(path)
    return found
