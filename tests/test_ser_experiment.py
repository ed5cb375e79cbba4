"""ser.experiment on a tiny subset of three corpora and a one-speaker corpus: leave-one-corpus-out,
corpus weights, calibration, augmented copies kept out of the test folds, and the written
checkpoint's calibration."""
import json

import numpy as np
import pandas as pd
import pytest

from emovc.ser.config import load_experiment
from emovc.ser.experiment import corpus_weights, train_experiment


def _subset(shared_data, tmp, corpus, speakers, per_class):
    df = pd.read_csv(shared_data / corpus / "manifest.csv", dtype=str, keep_default_na=False)
    df = df[df["speaker"].isin(speakers) & df["emotion"].isin(["neutral", "happy", "sad", "angry", "calm"])]
    df = df.groupby(["speaker", "emotion"]).head(per_class)
    df["path"] = [str(shared_data / corpus / p) for p in df["path"]]
    df.to_csv(tmp / f"{corpus}.csv", index=False)
    return tmp / f"{corpus}.csv"


def _train(shared_data, tmp, *overrides):
    """train_experiment on 2 clips per (speaker, emotion) of 3 speakers of 3 corpora and of ESD's one
    speaker, eGeMAPS only."""
    sources = [_subset(shared_data, tmp, "ravdess", ["ravdess_01", "ravdess_02", "ravdess_03"], 2),
               _subset(shared_data, tmp, "turevdb", ["turevdb_1157", "turevdb_1234", "turevdb_1358"], 2),
               _subset(shared_data, tmp, "urdu", ["urdu_SM5", "urdu_SM4", "urdu_SM25"], 2),
               _subset(shared_data, tmp, "esd", ["esd_0020"], 2)]
    cfg = load_experiment("configs/example.yaml", [
        f"data.sources=[{', '.join(map(str, sources))}]", "data.classes=null", "features=[{name: egemaps}]",
        "eval.folds=3", "train.balance=corpus", f"output.results={tmp / 'results'}",
        f"output.checkpoint={tmp / 'ckpt'}", f"output.cache={tmp / 'cache'}", *overrides])
    return train_experiment(cfg, progress=False), tmp


@pytest.fixture(scope="module")
def result(shared_data, tmp_path_factory):
    return _train(shared_data, tmp_path_factory.mktemp("loco"), "name=loco", "data.augment.copies=1",
                  "calibration.uncertain_below=0.3")


def test_every_corpus_is_left_out_once_on_its_shared_labels(result):
    r, _ = result
    cross = r["cross_corpus"]
    assert set(cross["turevdb"]["labels"]) == {"happy", "sad", "angry", "calm"}
    assert set(cross["urdu"]["labels"]) == {"neutral", "happy", "sad", "angry"}
    for corpus in ("ravdess", "turevdb", "urdu"):
        scores = cross[corpus]["single_clip"]
        k = len(cross[corpus]["labels"])
        assert np.array(scores["confusion"]).shape == (k, k)
        assert np.array(scores["confusion"]).sum() == cross[corpus]["clips"]
        assert 0 <= scores["uar"] <= 1 and "uar" in cross[corpus]["speaker_norm"]
    assert cross["mean_uar"] == pytest.approx(np.mean([cross[c]["single_clip"]["uar"]
                                                       for c in ("ravdess", "turevdb", "urdu")]))
    assert set(r["per_corpus"]) == {"ravdess", "turevdb", "urdu", "esd"}


def test_a_one_speaker_corpus_trains_but_is_never_left_out(result):
    cross = result[0]["cross_corpus"]
    assert "one speaker" in cross["esd"]["skipped"] and "single_clip" not in cross["esd"]
    assert "esd" not in result[0]["calibration"]["held_out_corpora"]


def test_each_label_recall_left_out_matches_the_confusion(result):
    cross = result[0]["cross_corpus"]
    for corpus in ("ravdess", "turevdb", "urdu"):
        scores = cross[corpus]["single_clip"]
        cm = np.array(scores["confusion"])
        assert list(scores["recall"]) == cross[corpus]["labels"]
        assert list(scores["recall"].values()) == pytest.approx(cm.diagonal() / cm.sum(1))
        assert scores["uar"] == pytest.approx(np.mean(list(scores["recall"].values())))
    sad = [cross[c]["single_clip"]["recall"]["sad"] for c in ("ravdess", "turevdb", "urdu")]
    assert cross["class_recall"]["sad"] == pytest.approx(np.mean(sad))
    assert set(cross["class_recall"]) == {"neutral", "calm", "happy", "sad", "angry"}


def test_augmented_copies_train_but_are_never_tested(result):
    r, _ = result
    assert r["augmented_copies"] == r["clips"]
    assert np.array(r["confusion"]).sum() == r["clips"]


def test_calibration_is_fitted_and_written_to_the_checkpoint(result):
    r, tmp = result
    cal = r["calibration"]
    assert cal["method"] == "temperature" and cal["fitted_on"] == "held-out speakers" and cal["temperature"] > 0
    assert cal["ece"] <= cal["ece_before"] + 1e-9       # fitted on these predictions, so never worse on them
    assert set(cal["held_out_corpora"]) == {"ravdess", "turevdb", "urdu"}
    assert all(0 <= v["ece"] <= 1 for v in cal["held_out_corpora"].values())
    assert 0 <= cal["uncertain_share"] <= 1
    meta = json.loads((tmp / "ckpt" / "meta.json").read_text())
    assert meta["temperature"] == pytest.approx(cal["temperature"], rel=1e-3)
    assert meta["uncertain_below"] == 0.3


def test_corpus_weights_balance_corpora_within_each_class():
    corpora = np.array(["a"] * 6 + ["b"] * 2)
    y = np.array([0, 0, 0, 0, 1, 1, 0, 1])
    w = corpus_weights(corpora, y)
    assert w[:4].sum() == pytest.approx(w[6])          # corpus a's class 0 weighs what b's does
    assert w[y == 0].sum() == pytest.approx(w[y == 1].sum())
    assert w.sum() == pytest.approx(len(y))


@pytest.fixture(scope="module")
def novelty_run(shared_data, tmp_path_factory):
    """The same subset, calibrated on held-out speakers and corpora with a novelty-dependent temperature."""
    return _train(shared_data, tmp_path_factory.mktemp("novelty"), "name=novelty", "calibration.novelty=true",
                  "calibration.fit_on=both")


def test_novelty_calibration_is_fitted_on_both_and_shipped(novelty_run, shared_data):
    from emovc.ser.recognizer import Recognizer
    r, tmp = novelty_run
    cal = r["calibration"]
    assert cal["fitted_on"] == "held-out speakers and held-out corpora"
    assert isinstance(cal["novelty_power"], float) and cal["temperature"] > 0
    assert set(cal["held_out_corpora"]) == {"ravdess", "turevdb", "urdu"}
    meta = json.loads((tmp / "ckpt" / "meta.json").read_text())
    assert meta["novelty"]["power"] == pytest.approx(cal["novelty_power"], abs=1e-4)
    rec = Recognizer(tmp / "ckpt")
    clip = shared_data / "ravdess" / "Actor_01" / "03-01-01-01-01-01-01.flac"
    import soundfile as sf
    wav, sr = sf.read(clip)
    feats = rec.features(wav, sr)
    far = feats * 5 + 20                         # nothing like the training clips
    near_p, far_p = rec.classify([feats, far])
    d = rec.novelty.score([feats, far])
    assert d[1] > d[0]
    t = rec.calibration.temperatures(d, 2)
    assert (t[1] > t[0]) == (rec.calibration.power > 0)
    assert sum(near_p.probabilities.values()) == pytest.approx(1.0)


def test_a_damaged_novelty_file_is_refused_and_a_plain_retrain_removes_it(novelty_run, tmp_path):
    import shutil
    from emovc.core.errors import UserError
    from emovc.ser.recognizer import Recognizer
    _, tmp = novelty_run
    ckpt = tmp_path / "ckpt"
    shutil.copytree(tmp / "ckpt", ckpt)
    data = bytearray((ckpt / "novelty.npz").read_bytes())
    data[-100] ^= 0xFF
    (ckpt / "novelty.npz").write_bytes(bytes(data))
    with pytest.raises(UserError, match="novelty.npz is missing or does not match its sha256"):
        Recognizer(ckpt)
    from emovc.ser.models import load_checkpoint, save_checkpoint
    model, meta = load_checkpoint(ckpt)
    save_checkpoint(ckpt, model, meta["features"], meta["labels"], 0)
    assert not (ckpt / "novelty.npz").exists() and Recognizer(ckpt).novelty is None
