"""ser.config: every shipped config loads; bad keys, types and paths give one-line errors."""
from pathlib import Path

import pytest

from emovc.core.errors import ConfigError
from emovc.ser.config import data_sources, load_experiment
from emovc.ser.features import build_feature_sets
from emovc.ser.models import build_model

CONFIGS = sorted((Path(__file__).resolve().parents[1] / "configs").glob("*.yaml"))
SER_CONFIGS = [c for c in CONFIGS
               if c.name in {"example.yaml", "svm.yaml", "mlp.yaml", "cnn1d.yaml", "cnn2d.yaml", "lstm.yaml"}]


@pytest.mark.parametrize("path", SER_CONFIGS, ids=lambda p: p.name)
def test_shipped_configs_validate(path):
    cfg = load_experiment(path)
    sets = build_feature_sets(cfg.features, cfg.source)
    assert build_model(cfg.model, cfg.source).input_kind == sets[0].kind


def _write(tmp_path, text):
    path = tmp_path / "exp.yaml"
    path.write_text(text)
    return path


BASE = "name: t\ndata: {sources: [nowhere]}\nfeatures: [{name: egemaps}]\nmodel: {name: svm}\n"


@pytest.mark.parametrize("text, overrides, message", [
    (BASE + "trian: {epochs: 3}\n", [], "unknown key 'trian'"),
    (BASE, ["train.epochs=many"], "key 'train.epochs' must be int"),
    (BASE, ["eval.scheme=shuffle"], "key 'eval.scheme' is 'shuffle'; choose one of"),
    (BASE, ["train.epoch=3"], "unknown key 'train.epoch'"),
    (BASE, ["calibration.method=none", "calibration.novelty=true"], "'calibration.novelty' needs calibration.method"),
    (BASE, ["calibration.fit_on=everything"], "key 'calibration.fit_on' is 'everything'; choose one of"),
    ("name: t\nfeatures: []\nmodel: {name: svm}\n", [], "missing required key 'data'"),
])
def test_bad_keys_name_file_and_key(tmp_path, text, overrides, message):
    with pytest.raises(ConfigError, match=message) as err:
        load_experiment(_write(tmp_path, text), overrides)
    one_key = overrides and "needs" not in message        # a combination of keys is the file's
    source = f"--set {overrides[0].split('=')[0]}" if one_key else str(tmp_path / "exp.yaml")
    assert str(err.value).startswith(f"{source}: ") and "\n" not in str(err.value)


def test_missing_data_source_names_key(tmp_path):
    cfg = load_experiment(_write(tmp_path, BASE))
    with pytest.raises(ConfigError, match=r"exp\.yaml: key 'data.sources\[0\]': file or folder 'nowhere' not found"):
        data_sources(cfg)


def test_model_params_are_validated_at_load(tmp_path):
    """At load, before any feature is extracted (the model's own dataclass is the schema)."""
    with pytest.raises(ConfigError, match="key 'model.params.C' must be float"):
        load_experiment(_write(tmp_path, BASE), ["model.params.C=ten"])
    with pytest.raises(ConfigError, match="unknown key 'model.params.kernal'"):
        load_experiment(_write(tmp_path, BASE), ["model.params.kernal=rbf"])
    with pytest.raises(ConfigError, match="key 'model.params.C' is -1.0; allowed: > 0"):
        load_experiment(_write(tmp_path, BASE), ["model.params.C=-1"])
    cfg = load_experiment(_write(tmp_path, BASE), ["model.params.C=2"])
    assert build_model(cfg.model, cfg.source).C == 2.0


def test_overrides_reach_every_section(tmp_path):
    cfg = load_experiment(_write(tmp_path, BASE), ["train.epochs=5", "model.params.C=2", "eval.folds=3",
                                                   "data.classes=[neutral, sad]"])
    assert (cfg.train.epochs, cfg.model.params["C"], cfg.eval.folds) == (5, 2, 3)
    assert cfg.data.classes == ["neutral", "sad"]
