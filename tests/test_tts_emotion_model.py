"""The emotion model learned from parallel takes: its weight files, what it does to contours on
speakers it never trained on, keep-voice on a real recording, and the contour inside Kokoro."""
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from emovc.core.audio import load_audio
from emovc.core.errors import UserError
from emovc.tts import emotion_model as em
from emovc.tts.contours import OUTPUTS, analyse, speech_span

ROOT = Path(__file__).resolve().parents[1]
HELD_OUT = ROOT / "checkpoints" / "prosody_heldout"     # trained without RAVDESS actors 21-24
HELD_OUT_ACTORS = ("ravdess_21", "ravdess_22", "ravdess_23", "ravdess_24")


@pytest.fixture(scope="module")
def neutral_take(shared_data):
    """Actor 22 (never trained on by the held-out model), neutral: 'Kids are talking by the door'."""
    return load_audio(shared_data / "ravdess" / "Actor_22" / "03-01-01-01-01-01-22.flac")


def test_save_and_load_give_the_same_predictions(tmp_path):
    model = em.load()
    em.save(model, tmp_path / "copy", {"name": "copy"})
    again = em.load(tmp_path / "copy")
    x = np.random.default_rng(0).normal(size=(40, model.arrays["x_mean"].shape[0])).astype(np.float32)
    np.testing.assert_array_equal(model.predict(x), again.predict(x))


def _copy(tmp_path) -> Path:
    folder = tmp_path / "model"
    shutil.copytree(em.CHECKPOINT, folder)
    return folder


def _one_line_error(folder: Path, *words: str) -> None:
    with pytest.raises(UserError) as caught:
        em.load(folder)
    message = str(caught.value)
    assert "\n" not in message and all(w in message for w in words), message


def test_truncated_weights_are_refused_with_one_line(tmp_path):
    folder = _copy(tmp_path)
    data = (folder / em.MODEL).read_bytes()
    (folder / em.MODEL).write_bytes(data[: len(data) // 2])
    _one_line_error(folder, "sha256", "retrain")


def test_missing_metadata_is_refused(tmp_path):
    folder = _copy(tmp_path)
    (folder / em.META).unlink()
    _one_line_error(folder, "cannot be read")


def test_misshapen_or_pickled_weights_are_refused_even_with_a_matching_sha256(tmp_path):
    model = em.load()
    bad = dict(model.arrays, w1=model.arrays["w1"][:-3])
    em.save(em.EmotionModel(bad), tmp_path / "misshapen", {})
    _one_line_error(tmp_path / "misshapen", "misshapen")
    pickled = dict(model.arrays, w0=np.array([object()], dtype=object))
    em.save(em.EmotionModel(pickled), tmp_path / "pickled", {})
    _one_line_error(tmp_path / "pickled", "not a valid array file")


def test_neutral_and_intensity_zero_leave_the_recording_unchanged(neutral_take):
    from emovc.tts import render_emotion
    wav, sr = neutral_take
    contours = analyse(wav, sr)
    assert not em.load().edit(contours.f0, contours.energy, "neutral", 1.0).any()
    assert not em.load().edit(contours.f0, contours.energy, "angry", 0.0).any()
    np.testing.assert_array_equal(render_emotion(wav, sr, "neutral", renderer="contour"), wav)


def test_on_held_out_actors_the_changes_go_the_way_the_real_takes_do(shared_data):
    """Mean pitch and energy change over actors 21-24's frames, predicted vs real (their own
    emotional takes, DTW-aligned): same sign for every emotion whose real change is clear."""
    from emovc.tts.emotion_model import TARGET_EMOTIONS, build_rows, conditioned, pairs
    model = em.load(HELD_OUT)
    held = [p for p in pairs([shared_data / "ravdess"]) if p[0]["speaker"] in HELD_OUT_ACTORS]
    x, emotion, intensity, y, w, _, _ = build_rows(held, json.loads((HELD_OUT / em.META).read_text())["corpora"], frame_step=3, cache=False)
    pred = model.predict(conditioned(x, emotion, intensity))
    checked = 0
    for e, name in enumerate(TARGET_EMOTIONS):
        for k in (OUTPUTS.index("pitch"), OUTPUTS.index("energy")):
            rows = (emotion == e) & (intensity == 1.0)
            real = (w[rows, k] * y[rows, k]).sum() / w[rows, k].sum()
            predicted = (w[rows, k] * pred[rows, k]).sum() / w[rows, k].sum()
            if abs(real) > 1.5:
                assert np.sign(predicted) == np.sign(real), (name, OUTPUTS[k], predicted, real)
                checked += 1
    assert checked >= 6


def test_keep_voice_keeps_the_duration_plausible_and_the_words(neutral_take):
    from emovc.asr import load_asr
    from emovc.asr.evaluate import wer
    from emovc.tts import render_emotion
    wav, sr = neutral_take
    asr = load_asr("whisper", model="base", language="en")
    for emotion in ("angry", "sad"):
        out = render_emotion(wav, sr, emotion, "strong", renderer="contour", emotion_model=HELD_OUT)
        assert out.dtype == np.float32 and np.all(np.isfinite(out)) and np.abs(out).max() <= 1.0
        assert 0.7 < len(out) / len(wav) < 1.5
        assert wer("Kids are talking by the door.", asr.transcribe(out).text) <= 0.2


def test_angry_raises_the_contour_kokoro_receives_and_the_output_pitch():
    from emovc.tts import synthesize
    from emovc.tts.engines import load_engine
    from emovc.tts.render import measure
    text = "The birch canoe slid on the smooth planks."
    neutral = measure(*synthesize(text, "neutral", "youngwoman", renderer="contour"))
    wav, sr = synthesize(text, "angry", "youngwoman", "strong", renderer="contour")
    sent = load_engine("kokoro").last_contours[-1]
    voiced = sent["f0_predicted"] > 50
    assert np.median(sent["f0"][voiced] / sent["f0_predicted"][voiced]) > 2 ** (1 / 12)
    assert measure(wav, sr)["f0_median"] > neutral["f0_median"] + 1


def test_edit_holds_timing_outside_the_speech(neutral_take):
    wav, sr = neutral_take
    c = analyse(wav, sr)
    edit = em.load().edit(c.f0, c.energy, "sad", 1.0)
    start, end = speech_span(c.energy)
    stretch = edit[:, OUTPUTS.index("stretch")]
    assert not stretch[:start].any() and not stretch[end:].any()
    assert np.isfinite(edit).all()


def test_training_command_trains_saves_and_the_model_loads(shared_data, tmp_path):
    """A few takes of actor 1 (one neutral, two emotional, same words), one epoch: the command runs
    end to end and writes a checkpoint that loads and edits."""
    from emovc.tts.train_emotion import main
    rows = ["path,corpus,speaker,gender,emotion,intensity,text,duration_s"]
    for code, emotion, level in (("01-01", "neutral", "normal"), ("05-02", "angry", "strong"), ("04-01", "sad", "normal")):
        path = shared_data / "ravdess" / "Actor_01" / f"03-01-{code}-01-01-01.flac"
        rows.append(f"{path},ravdess,ravdess_01,male,{emotion},{level},Kids are talking by the door,3.0")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "manifest.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    config = tmp_path / "tiny.yaml"
    config.write_text(f"name: tiny\ndata: {{sources: [{corpus}]}}\nnet: {{hidden: [8]}}\n"
                      f"train: {{epochs: 1, batch: 32}}\neval: {{folds: 0}}\n"
                      f"output: {{checkpoint: {tmp_path / 'model'}, results: {tmp_path / 'results'}}}\n", encoding="utf-8")
    assert main(["--config", str(config)]) == 0
    assert (tmp_path / "results" / "tiny" / "metrics.json").is_file()
    model = em.load(tmp_path / "model")
    wav, sr = load_audio(shared_data / "ravdess" / "Actor_01" / "03-01-01-01-01-01-01.flac")
    c = analyse(wav, sr)
    assert np.isfinite(model.edit(c.f0, c.energy, "angry", 1.0)).all()
