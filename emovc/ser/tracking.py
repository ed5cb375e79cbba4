"""Experiment tracking for train.py: what each run was and what it scored, and grid sweeps.

Every run writes `results/<name>/run.json` (config, seed, data manifest hash, git commit, metrics
per fold, confusion matrix); `--log` also sends it to TensorBoard (event files in
`results/<name>/tensorboard`, written by tensorboardX, no TensorFlow), MLflow (a local file store in
`results/mlruns` unless MLFLOW_TRACKING_URI is set) or W&B (optional; needs `pip install wandb` and
an account). Each tracker is imported only when asked for.
"""
import hashlib
import itertools
import json
import os
import re
import subprocess
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from emovc.core.audio import AUDIO_EXTENSIONS, atomic_path
from emovc.core.config import config_to_dict, load_config, resolve_path
from emovc.core.paths import ROOT
from emovc.core.errors import ConfigError, UserError
from emovc.core.execute import Executor
from emovc.ser.config import Experiment, data_sources, load_experiment
from emovc.ser.experiment import prepare, train_experiment

SCORES = ("uar", "accuracy", "macro_f1")


def check_trackers(logs: list[str]) -> None:
    """Fail before training when a requested tracker is not installed."""
    import importlib.util
    for name in logs:
        if importlib.util.find_spec({"tensorboard": "tensorboardX", "mlflow": "mlflow"}.get(name, name)) is None:
            raise UserError(f"--log {name} needs the {name} package: pip install "
                            f"{'wandb, then wandb login (an account)' if name == 'wandb' else '-r requirements.txt'}")


def record_run(cfg: Experiment, result: dict, logs: list[str] = ()) -> dict:
    """Write results/<name>/run.json and send the run to each tracker in `logs`; returns the record."""
    out = resolve_path(cfg.output.results) / cfg.name
    record = {
        "name": cfg.name, "seed": cfg.seed, "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "git": git_state(), "data": data_manifest(cfg),
        "metrics": {k: result[k] for k in SCORES},
        "folds": [{"fold": k, "uar": uar} for k, uar in enumerate(result["fold_uar"])],
        "labels": result["labels"], "confusion": result["confusion"],
        "config": config_to_dict(cfg),
    }
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "run.json", overwrite=True) as tmp:
        tmp.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    for name in logs:
        {"tensorboard": _tensorboard, "mlflow": _mlflow, "wandb": _wandb}[name](record, out, cfg)
    return record


def git_state() -> dict:
    """The commit of the code that ran, and whether tracked files had changes; None outside git."""
    def git(*args):
        return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, timeout=10)
    try:
        head = git("rev-parse", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    if head.returncode != 0:
        return {"commit": None, "dirty": None}
    return {"commit": head.stdout.strip(), "dirty": bool(dirty.stdout.strip())}


def data_manifest(cfg: Experiment) -> dict:
    """sha256 of the data sources: each manifest CSV's bytes, or a folder's audio file names and sizes."""
    total = hashlib.sha256()
    for source in data_sources(cfg):
        manifest = source / "manifest.csv" if source.is_dir() else source
        if manifest.is_file():
            total.update(manifest.read_bytes())
        else:
            for f in sorted(p for p in source.rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS):
                total.update(f"{f.relative_to(source)}\t{f.stat().st_size}\n".encode())
    return {"sources": [str(s) for s in cfg.data.sources], "sha256": total.hexdigest()}


def _flat(tree: Any, prefix: str = "") -> dict[str, str]:
    if isinstance(tree, dict):
        return {k: v for key, sub in tree.items() for k, v in _flat(sub, f"{prefix}{key}.").items()}
    return {prefix.rstrip("."): json.dumps(tree)}


def _tensorboard(record: dict, out: Path, cfg: Experiment) -> None:
    from tensorboardX import SummaryWriter
    with SummaryWriter(str(out / "tensorboard")) as writer:
        for fold in record["folds"]:
            writer.add_scalar("fold/uar", fold["uar"], fold["fold"])
        for key, value in record["metrics"].items():
            writer.add_scalar(f"final/{key}", value, 0)
        writer.add_text("config", "    " + json.dumps(record["config"], indent=1).replace("\n", "\n    "), 0)
        writer.add_text("confusion", _markdown_confusion(record), 0)
        writer.add_text("provenance", f"git {record['git']['commit']}, data sha256 {record['data']['sha256']}, "
                                      f"seed {record['seed']}", 0)


def _markdown_confusion(record: dict) -> str:
    labels = record["labels"]
    rows = [f"| true \\ predicted | {' | '.join(labels)} |", "|---" * (len(labels) + 1) + "|"]
    rows += [f"| {label} | {' | '.join(map(str, row))} |" for label, row in zip(labels, record["confusion"])]
    return "\n".join(rows)


def _mlflow(record: dict, out: Path, cfg: Experiment) -> None:
    uri = os.environ.get("MLFLOW_TRACKING_URI") or (resolve_path(cfg.output.results).resolve() / "mlruns").as_uri()
    if uri.startswith("file:"):
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")   # MLflow 3 asks to opt in to it
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient
    client = MlflowClient(uri)
    experiment = record["name"].split("/")[0]
    try:
        found = client.get_experiment_by_name(experiment)
        experiment_id = found.experiment_id if found else client.create_experiment(experiment)
    except MlflowException:         # created meanwhile by a parallel sweep run
        experiment_id = client.get_experiment_by_name(experiment).experiment_id
    now = int(time.time() * 1000)
    tags = {"git.commit": str(record["git"]["commit"]), "git.dirty": str(record["git"]["dirty"]),
            "data.sha256": record["data"]["sha256"]}
    run = client.create_run(experiment_id, run_name=record["name"], tags=tags)
    params = {**_flat(record["config"]), "seed": str(record["seed"])}
    metrics = [Metric(k, float(v), now, 0) for k, v in record["metrics"].items()]
    metrics += [Metric("fold_uar", float(f["uar"]), now, f["fold"]) for f in record["folds"]]
    client.log_batch(run.info.run_id, metrics=metrics, params=[Param(k, v[:6000]) for k, v in params.items()],
                     tags=[RunTag(k, v) for k, v in tags.items()])
    client.log_dict(run.info.run_id, {"labels": record["labels"], "confusion": record["confusion"]},
                    "confusion.json")
    if (out / "confusion.png").is_file():
        client.log_artifact(run.info.run_id, str(out / "confusion.png"))
    client.set_terminated(run.info.run_id)


def _wandb(record: dict, out: Path, cfg: Experiment) -> None:
    import wandb
    run = wandb.init(project=os.environ.get("WANDB_PROJECT", "emotion-voice"), name=record["name"],
                     config=record["config"], dir=str(out), reinit=True)
    for fold in record["folds"]:
        run.log({"fold_uar": fold["uar"]}, step=fold["fold"])
    run.summary.update({**record["metrics"], "git_commit": record["git"]["commit"],
                        "data_sha256": record["data"]["sha256"]})
    run.finish()


# --- sweeps --------------------------------------------------------------------------------

@dataclass
class Sweep:
    grid: dict[str, list[Any]]      # config key -> the values to try, e.g. {model.params.C: [0.1, 1, 10]}


def parse_sweep(items: list[str]) -> dict[str, list[str]]:
    """--sweep KEY=V1,V2,... (repeatable) or --sweep FILE.yaml (a `grid:` mapping) -> key: override values."""
    grid: dict[str, list[str]] = {}
    for item in items:
        if "=" not in item and item.endswith((".yaml", ".yml")):
            sweep = load_config(item, Sweep)
            for key, values in sweep.grid.items():
                if not values:
                    raise ConfigError(f"{item}: key 'grid.{key}' lists no values")
                grid[key] = [json.dumps(v) for v in values]
            continue
        key, sep, raw = item.partition("=")
        values = _split_top_level(raw)
        if not sep or not key.strip() or not all(v.strip() for v in values):
            raise ConfigError(f"--sweep {item!r}: expected KEY=V1,V2,... (e.g. model.params.C=0.1,1,10) "
                              f"or a sweep YAML file")
        grid[key.strip()] = values
    return grid


def _split_top_level(text: str) -> list[str]:
    """Split at commas outside brackets and braces: 'a,[b, c],d' -> ['a', '[b, c]', 'd']."""
    parts, depth, current = [], 0, ""
    for ch in text:
        depth += (ch in "[{") - (ch in "]}")
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    return parts + [current]


def sweep_runs(config: str, overrides: list[str], grid: dict[str, list[str]]) -> list[tuple[str, list[str]]]:
    """(run name, overrides) for every grid point; each config is validated before anything runs."""
    base = load_experiment(config, overrides)
    runs = []
    for values in itertools.product(*grid.values()):
        slug = ",".join(f"{key.rsplit('.', 1)[-1]}={value}" for key, value in zip(grid, values))
        name = base.name + "/" + re.sub(r"[^\w.=,+-]+", "_", slug)
        run = [*overrides, *(f"{key}={value}" for key, value in zip(grid, values)), f"name={name}",
               "output.checkpoint=null"]
        load_experiment(config, run)
        runs.append((name, run))
    return runs


def run_one(config: str, logs: tuple, item: tuple[str, list[str]]) -> dict:
    """One sweep point: train, record, return its leaderboard row (a `core.execute` task; the
    features are in the cache already, so it reads them in its own process)."""
    name, overrides = item
    cfg = load_experiment(config, [*overrides, "train.workers=1", "train.scheduler=null"])
    result = train_experiment(cfg, progress=False)
    record_run(cfg, result, logs)
    return {"name": name, **{k: result[k] for k in SCORES}, "results": str(resolve_path(cfg.output.results) / name)}


def sweep(config: str, overrides: list[str], grid: dict[str, list[str]], logs: list[str] = ()) -> list[dict]:
    """Every grid point as its own tracked run, in parallel on `core.execute` (train.workers or
    train.scheduler); returns the rows best UAR first and writes results/<name>/leaderboard.json.

    Features are extracted (and cached) here first, once per distinct feature setting."""
    check_trackers(logs)
    base = load_experiment(config, overrides)
    runs = sweep_runs(config, overrides, grid)
    prepared = set()
    for _, run in runs:
        cfg = load_experiment(config, run)
        key = json.dumps(config_to_dict([cfg.features, cfg.data, cfg.output.cache]), sort_keys=True)
        if key not in prepared:
            prepared.add(key)
            prepare(cfg)
    with Executor(base.train.scheduler, base.train.workers, min_items=2) as executor:
        rows = executor.map(partial(run_one, config, tuple(logs)), runs, progress=True, desc="sweep")
    rows.sort(key=lambda row: -row["uar"])
    folder = resolve_path(base.output.results) / base.name
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder / "leaderboard.json", overwrite=True) as tmp:
        tmp.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    return rows


def leaderboard(rows: list[dict]) -> str:
    """The sweep's rows as an aligned text table, best UAR first."""
    width = max(len(r["name"]) for r in rows)
    lines = [f"{'rank':>4}  {'run':<{width}}  {'UAR':>6}  {'acc':>6}  {'F1':>6}"]
    lines += [f"{i:>4}  {r['name']:<{width}}  {r['uar']:6.3f}  {r['accuracy']:6.3f}  {r['macro_f1']:6.3f}"
              for i, r in enumerate(rows, 1)]
    return "\n".join(lines)
