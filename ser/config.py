"""The experiment schema shared by preprocess.py, train.py and predict.py.

A YAML file in configs/ fills these dataclasses; `core.config.load_config` validates every
key, and any key can be overridden with `--set section.key=value`. Feature-set and model
`params` are validated against the chosen set's or model's own settings when they are built.
"""
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from core.config import load_config, resolve_path
from core.errors import ConfigError


@dataclass
class Data:
    sources: list[Path]                         # manifest.csv files or folders; several = multi-corpus
    classes: list[str] | None = None            # class set; default: the 8 emotions that occur
    label_map: dict[str, str] = field(default_factory=dict)    # e.g. {calm: neutral}
    normalise: Literal["none", "speaker"] = "none"   # 'speaker': standardise features per speaker; the
                                                     # model then classifies batches of one speaker's clips


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
    epochs: int = 30                            # Keras models only
    batch_size: int = 32
    learning_rate: float = 1e-3
    workers: int | None = None                  # feature-extraction processes (None: the cores)
    scheduler: str | None = None                # or an existing Dask cluster: tcp://HOST:8786


@dataclass
class Eval:
    scheme: Literal["group_kfold", "holdout", "random"] = "group_kfold"   # by speaker unless 'random'
    folds: int = 6
    test_speakers: list[str] = field(default_factory=list)    # for 'holdout'


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
    seed: int = 0
    train: Train = field(default_factory=Train)
    eval: Eval = field(default_factory=Eval)
    output: Output = field(default_factory=Output)


def load_experiment(path, overrides=()) -> Experiment:
    """The validated experiment; data sources are checked only by `data_sources` (predict needs none)."""
    cfg = load_config(path, Experiment, overrides)
    cfg.source = str(resolve_path(path))
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
