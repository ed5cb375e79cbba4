"""ser.recognizer: the shipped model through the API detect.py uses."""
import numpy as np
import pytest

from emovc.core.audio import load_audio, resample
from emovc.core.errors import AudioError, UserError
from emovc.ser import Prediction, load_recognizer
from emovc.ser.recognizer import batch_normalise

EIGHT = ["neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised"]


@pytest.fixture(scope="module")
def rec():
    return load_recognizer("configs/example.yaml")


def test_shipped_model_labels_and_prediction(rec, ravdess_clip):
    assert rec.labels == EIGHT
    wav, sr = load_audio(ravdess_clip)
    p = rec.predict(wav, sr)
    assert isinstance(p, Prediction) and list(p.probabilities) == EIGHT
    assert abs(sum(p.probabilities.values()) - 1) < 1e-6
    assert p.label == "angry" == max(p.probabilities, key=p.probabilities.get)   # a training clip


def test_any_sample_rate(rec, ravdess_clip):
    wav, sr = load_audio(ravdess_clip)
    at_16k = rec.predict(wav, sr)
    at_44k = rec.predict(resample(wav, sr, 44100), 44100)
    assert at_44k.label == at_16k.label
    assert abs(at_44k.confidence - at_16k.confidence) < 0.1


def test_short_or_silent_input(rec):
    with pytest.raises(AudioError, match="only 0.20 s long"):
        rec.predict(np.full(3200, 0.1, np.float32), 16000)
    with pytest.raises(AudioError, match="is silent"):
        rec.predict(np.zeros(48000, np.float32), 48000)


def test_checkpoint_folder_and_mismatched_config(rec, tmp_path):
    same = load_recognizer(rec.checkpoint)
    assert same.labels == rec.labels
    with pytest.raises(UserError, match="differ from data.classes"):
        load_recognizer("configs/example.yaml", ["data.classes=[neutral, calm, happy, sad]"])
    with pytest.raises(UserError, match="not a checkpoint"):
        load_recognizer(tmp_path)


def test_batch_normalise_maps_onto_training_statistics():
    rng = np.random.default_rng(0)
    batch = list(rng.normal(5, 3, (50, 4)))
    out = np.stack(batch_normalise(batch, np.array([0, 1, 2, 3.0]), np.array([1, 1, 2, 2.0])))
    assert np.allclose(out.mean(0), [0, 1, 2, 3]) and np.allclose(out.std(0), [1, 1, 2, 2], atol=1e-6)
    with pytest.raises(UserError, match="at least 2 clips"):
        batch_normalise(batch[:1], np.zeros(4), np.ones(4))


def test_per_speaker_model_classifies_one_speakers_batch(shared_data):
    """The shipped per-speaker model (configs/speaker_norm.yaml) on actor 3's strong-intensity clips
    (seen in training: this checks the batch API; held-out scores are in the model card)."""
    spk = load_recognizer("configs/speaker_norm.yaml")
    clips = sorted((shared_data / "ravdess" / "Actor_03").glob("03-01-0[2-8]-02-01-01-03.flac"))
    features = [spk.features(*load_audio(c)) for c in clips]
    with pytest.raises(UserError, match="per-speaker standardised.*--normalise batch"):
        spk.classify(features[:1])
    predicted = [p.label for p in spk.classify(features, normalise=True)]
    truth = [EIGHT[int(c.name.split("-")[2]) - 1] for c in clips]
    assert len(clips) == 7 and sum(p == t for p, t in zip(predicted, truth)) >= 4   # chance: about 1


def test_speaker_normalised_training_standardises_each_speaker():
    from emovc.ser.experiment import by_speaker
    rng = np.random.default_rng(1)
    X = list(rng.normal(3, 2, (12, 5)))
    speakers = np.array(["a"] * 6 + ["b"] * 6)
    out = np.stack(by_speaker(X, speakers, "test.yaml"))
    for group in (out[:6], out[6:]):
        assert np.allclose(group.mean(0), 0, atol=1e-6) and np.allclose(group.std(0), 1, atol=1e-4)
    with pytest.raises(UserError, match="at least 2 clips per speaker"):
        by_speaker(X, np.array(["a"] * 11 + ["b"]), "test.yaml")


def test_uncertain_below_the_threshold_keeps_the_probabilities(rec, ravdess_clip, monkeypatch):
    p = Prediction.of(["sad", "calm"], [0.55, 0.45], uncertain_below=0.6)
    assert p.label == "uncertain" and p.top == "sad" and p.confidence == 0.55
    assert Prediction.of(["sad", "calm"], [0.65, 0.35], uncertain_below=0.6).label == "sad"
    wav, sr = load_audio(ravdess_clip)
    sure = rec.predict(wav, sr)
    monkeypatch.setattr(rec, "uncertain_below", sure.confidence + 1e-3)
    unsure = rec.predict(wav, sr)
    assert unsure.label == "uncertain" and unsure.top == sure.label
    assert unsure.probabilities == pytest.approx(sure.probabilities)


def test_the_config_threshold_overrides_the_checkpoints():
    assert load_recognizer("configs/example.yaml", ["calibration.uncertain_below=0.7"]).uncertain_below == 0.7
