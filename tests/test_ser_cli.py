"""preprocess.py -> train.py -> predict.py end to end on a small RAVDESS subset, and their bad-input errors."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
CLASSES = "[neutral, happy, sad, angry]"


def cli(*args):
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def trained(shared_data, tmp_path_factory):
    """eGeMAPS + logistic regression trained on RAVDESS actors 1-4 (4 classes), cache and outputs in tmp."""
    tmp = tmp_path_factory.mktemp("ser_cli")
    df = pd.read_csv(shared_data / "ravdess" / "manifest.csv")
    df = df[df["speaker"].isin([f"ravdess_0{i}" for i in range(1, 5)])]
    df["path"] = [str(shared_data / "ravdess" / p) for p in df["path"]]
    df.to_csv(tmp / "subset.csv", index=False)
    sets = ["--config", "configs/example.yaml", "--set", f"data.sources=[{tmp / 'subset.csv'}]",
            "--set", f"data.classes={CLASSES}", "--set", "features=[{name: egemaps}]",
            "--set", "model.params.C=1.0", "--set", "eval.folds=2", "--set", "name=tiny",
            "--set", f"output.results={tmp / 'results'}", "--set", f"output.checkpoint={tmp / 'ckpt'}",
            "--set", f"output.cache={tmp / 'cache'}"]
    pre = cli("preprocess.py", *sets)
    assert pre.returncode == 0, pre.stderr
    assert "112 clips ready" in pre.stdout
    train = cli("train.py", *sets)
    assert train.returncode == 0, train.stderr
    return tmp, train.stdout


def test_train_writes_results_and_checkpoint(trained):
    tmp, stdout = trained
    out = tmp / "results" / "tiny"
    m = json.loads((out / "metrics.json").read_text())
    assert {"accuracy", "uar", "macro_f1", "per_class", "confusion", "labels"} <= set(m)
    assert m["labels"] == ["neutral", "happy", "sad", "angry"] and m["folds"] == 2 and m["speakers"] == 4
    assert np.sum(m["confusion"]) == 112
    assert m["uar"] > 0.35               # chance is 0.25; eGeMAPS on 2 unseen actors does better
    assert f"UAR {m['uar']:.3f}" in stdout
    assert f"fold UAR {np.mean(m['fold_uar']):.3f} +- {np.std(m['fold_uar']):.3f}" in stdout
    assert (out / "confusion.png").read_bytes()[:4] == b"\x89PNG"
    assert "egemaps" in (out / "config.yaml").read_text()
    assert {p.name for p in (tmp / "ckpt").iterdir()} == {"meta.json", "model.npz"}


def test_predict_files_folders_and_json(trained, shared_data, tmp_path):
    tmp, _ = trained
    clips = sorted((shared_data / "ravdess" / "Actor_05").glob("03-01-0[1345]-*-01-01-05.flac"))
    for clip in clips:
        (tmp_path / "nested").mkdir(exist_ok=True)
        (tmp_path / "nested" / clip.name).symlink_to(clip)
    result = cli("predict.py", "--config", str(tmp / "ckpt"), *map(str, clips))
    assert result.returncode == 0, result.stderr
    lines = [line.split("\t") for line in result.stdout.strip().splitlines()]
    assert [line[0] for line in lines] == list(map(str, clips))
    assert all(label in CLASSES and 0.25 <= float(conf) <= 1 for _, label, conf in lines)
    as_json = cli("predict.py", "--config", str(tmp / "ckpt"), "--json", "--normalise", "batch", str(tmp_path))
    rows = json.loads(as_json.stdout)
    assert len(rows) == len(clips) and set(rows[0]) == {"path", "label", "top", "probabilities"}
    assert all(abs(sum(r["probabilities"].values()) - 1) < 1e-3 for r in rows)     # rounded to 4 places


def test_predict_skips_bad_files_by_name(trained, ravdess_clip, tmp_path):
    ckpt = trained[0] / "ckpt"
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "notes.wav").write_text("hello")
    sf.write(tmp_path / "short.wav", np.random.default_rng(0).normal(0, 0.1, 3200), 16000)
    sf.write(tmp_path / "silence.wav", np.zeros(32000), 16000)
    bad = ["empty.wav", "notes.wav", "short.wav", "silence.wav", "missing.wav"]
    result = cli("predict.py", "--config", str(ckpt), str(ravdess_clip), *(str(tmp_path / b) for b in bad))
    assert result.returncode == 0 and result.stdout.startswith(str(ravdess_clip))
    warnings = result.stderr.strip().splitlines()
    assert len(warnings) == 5 and all(w.startswith("warning: skipped: ") for w in warnings)
    assert all(sum(name in w for w in warnings) == 1 for name in bad)
    only_bad = cli("predict.py", "--config", str(ckpt), *(str(tmp_path / b) for b in bad))
    assert only_bad.returncode == 2 and "Traceback" not in only_bad.stderr
    *others, last = only_bad.stderr.strip().splitlines()
    assert last.startswith("error: none of the 5 inputs could be classified; the first: ")  # names the reason
    assert "missing.wav: no such file" in last and len(others) == 4


@pytest.mark.parametrize("args, message", [
    (["train.py", "--config", "configs/example.yaml", "--set", "trian.epochs=3"], "unknown key 'trian'"),
    (["train.py", "--config", "configs/nope.yaml"], "config file not found"),
    (["train.py", "--config", "configs/example.yaml", "--set", "data.sources=[/no/data]"],
     "key 'data.sources[0]': file or folder '/no/data' not found"),
    (["train.py", "--config", "configs/lstm.yaml", "--set", "features=[{name: egemaps}]"],
     "model 'lstm' needs frames features but 'egemaps' gives functionals"),
    (["predict.py", "--config", "configs/example.yaml", "--set", "features=[{name: egemaps}]", "x.wav"],
     "was trained with logreg on whisper"),
])
def test_user_mistakes_are_one_line_errors(args, message):
    result = cli(*args)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ") and message in result.stderr


def test_corrupt_cache_entry_is_recomputed(trained, shared_data):
    tmp, _ = trained
    entries = sorted((tmp / "cache").rglob("*.npy"))
    entries[0].write_bytes(b"garbage")
    result = cli("preprocess.py", "--config", str(tmp / "results" / "tiny" / "config.yaml"))
    assert result.returncode == 0, result.stderr
    assert "corrupt cache entry" in result.stderr and "112 clips ready" in result.stdout
    assert np.load(entries[0]).shape == (88,)
