"""train.py's tracking (run.json, TensorBoard event files, an MLflow file store) and sweeps, on
RAVDESS actors 1-2 (neutral vs angry, eGeMAPS + logistic regression), read back with the trackers' own readers."""
import hashlib
import importlib.util
import json
import struct
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from emovc.core.errors import ConfigError
from emovc.ser.tracking import parse_sweep

ROOT = Path(__file__).resolve().parents[1]


def cli(*args):
    return subprocess.run([sys.executable, *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def setup(shared_data, tmp_path_factory):
    """--set overrides for a tiny experiment with its cache filled, and the data manifest."""
    tmp = tmp_path_factory.mktemp("tracking")
    df = pd.read_csv(shared_data / "ravdess" / "manifest.csv")
    df = df[df["speaker"].isin(["ravdess_01", "ravdess_02"])]
    df["path"] = [str(shared_data / "ravdess" / p) for p in df["path"]]
    df.to_csv(tmp / "subset.csv", index=False)
    sets = ["--config", "configs/example.yaml", "--set", f"data.sources=[{tmp / 'subset.csv'}]",
            "--set", "data.classes=[neutral, angry]", "--set", "features=[{name: egemaps}]",
            "--set", "model.params.C=1.0", "--set", "eval.folds=2", "--set", "name=tiny",
            "--set", f"output.results={tmp / 'results'}", "--set", f"output.checkpoint={tmp / 'ckpt'}",
            "--set", f"output.cache={tmp / 'cache'}"]
    pre = cli("preprocess.py", *sets, "--workers", "1")
    assert pre.returncode == 0, pre.stderr
    return tmp, sets


def _tensorboard_scalars(folder: Path) -> dict[str, list[tuple[int, float]]]:
    """Scalars of TensorBoard event files, read as TFRecords of Event protos (no TensorFlow)."""
    from tensorboardX.proto.event_pb2 import Event
    scalars: dict[str, list] = {}
    for path in folder.rglob("events.out.tfevents.*"):
        data, at = path.read_bytes(), 0
        while at < len(data):
            (length,) = struct.unpack("<Q", data[at:at + 8])
            event = Event.FromString(data[at + 12:at + 12 + length])
            at += 12 + length + 4
            for value in event.summary.value:
                if value.HasField("simple_value"):
                    scalars.setdefault(value.tag, []).append((event.step, value.simple_value))
    return scalars


@pytest.fixture(scope="module")
def single(setup):
    """One train.py run (C=1) logged to TensorBoard and MLflow; its results folder."""
    tmp, sets = setup
    result = cli("train.py", *sets, "--log", "tensorboard", "--log", "mlflow")
    assert result.returncode == 0, result.stderr
    return tmp / "results" / "tiny"


def test_a_run_is_recorded_in_run_json_tensorboard_and_mlflow(setup, single, monkeypatch):
    tmp, _ = setup
    out = single
    run = json.loads((out / "run.json").read_text())
    metrics = json.loads((out / "metrics.json").read_text())
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    assert run["git"]["commit"] == head.strip() and isinstance(run["git"]["dirty"], bool)
    assert run["data"]["sha256"] == hashlib.sha256((tmp / "subset.csv").read_bytes()).hexdigest()
    assert run["seed"] == 0 and run["config"]["model"]["params"] == {"C": 1.0}
    assert run["metrics"] == {k: metrics[k] for k in ("uar", "accuracy", "macro_f1")}
    assert [f["uar"] for f in run["folds"]] == metrics["fold_uar"] and len(run["folds"]) == 2
    assert run["confusion"] == metrics["confusion"] and sum(map(sum, run["confusion"])) == 24

    scalars = _tensorboard_scalars(out / "tensorboard")
    assert [step for step, _ in scalars["fold/uar"]] == [0, 1]
    assert [v for _, v in scalars["fold/uar"]] == pytest.approx(metrics["fold_uar"], abs=1e-6)
    assert scalars["final/uar"][0][1] == pytest.approx(metrics["uar"], abs=1e-6)

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    from mlflow.tracking import MlflowClient
    client = MlflowClient((tmp / "results" / "mlruns").as_uri())
    (logged,) = client.search_runs([client.get_experiment_by_name("tiny").experiment_id])
    assert logged.data.metrics["uar"] == pytest.approx(metrics["uar"])
    assert logged.data.params["model.params.C"] == "1.0" and logged.data.tags["git.commit"] == head.strip()
    history = sorted((m.step, m.value) for m in client.get_metric_history(logged.info.run_id, "fold_uar"))
    assert [step for step, _ in history] == [0, 1]
    assert [value for _, value in history] == pytest.approx(metrics["fold_uar"])
    assert {a.path for a in client.list_artifacts(logged.info.run_id)} == {"confusion.json", "confusion.png"}


def test_a_sweep_runs_each_point_in_parallel_as_the_single_run_does(setup, single):
    tmp, sets = setup
    sweep = cli("train.py", *sets, "--sweep", "model.params.C=0.001,1.0", "--workers", "2")
    assert sweep.returncode == 0, sweep.stderr
    rows = json.loads((tmp / "results" / "tiny" / "leaderboard.json").read_text())
    assert [r["name"] for r in rows] == sorted(["tiny/C=0.001", "tiny/C=1.0"], key=lambda n: n != rows[0]["name"])
    assert rows[0]["uar"] >= rows[1]["uar"]
    lines = sweep.stdout.strip().splitlines()
    assert lines[0].split() == ["rank", "run", "UAR", "acc", "F1"]
    assert [line.split()[1] for line in lines[1:]] == [r["name"] for r in rows]
    reference = json.loads((single / "metrics.json").read_text())
    same = json.loads((tmp / "results" / "tiny" / "C=1.0" / "metrics.json").read_text())
    assert same["uar"] == reference["uar"] and same["confusion"] == reference["confusion"]
    for row in rows:
        run = json.loads((Path(row["results"]) / "run.json").read_text())
        assert run["metrics"]["uar"] == row["uar"] and run["config"]["output"]["checkpoint"] is None


def test_sweep_specs_and_their_mistakes(tmp_path, setup):
    (tmp_path / "grid.yaml").write_text("grid:\n  model.params.C: [0.1, 10]\n  features: [[{name: egemaps}]]\n")
    assert parse_sweep([str(tmp_path / "grid.yaml")]) == {
        "model.params.C": ["0.1", "10"], "features": ['[{"name": "egemaps"}]']}
    assert parse_sweep(["model.name=svm,logreg", "features=[{name: egemaps}],[{name: is09_emotion}]"]) == {
        "model.name": ["svm", "logreg"], "features": ["[{name: egemaps}]", "[{name: is09_emotion}]"]}
    with pytest.raises(ConfigError, match="expected KEY=V1,V2"):
        parse_sweep(["model.params.C"])
    (tmp_path / "bad.yaml").write_text("grid:\n  model.params.C: 3\n")
    with pytest.raises(ConfigError, match="'grid.model.params.C' must be a list"):
        parse_sweep([str(tmp_path / "bad.yaml")])
    _, sets = setup
    typo = cli("train.py", *sets, "--sweep", "model.parms.C=1,2")
    assert typo.returncode == 2 and typo.stderr.startswith("error: ") and "unknown key 'model.parms'" in typo.stderr
    assert typo.stderr.count("\n") == 1


@pytest.mark.skipif(importlib.util.find_spec("wandb") is not None, reason="wandb is installed here")
def test_wandb_is_optional_and_says_how_to_get_it(setup):
    _, sets = setup
    result = cli("train.py", *sets, "--log", "wandb")
    assert result.returncode == 2 and result.stderr.strip().splitlines() == [
        "error: --log wandb needs the wandb package: pip install wandb, then wandb login (an account)"]
