"""The exemplar bank (real residual contours of training pairs) and the WORLD keep-voice path: the
bank's files, what it does to held-out actors' contours against their own real takes, and keep-voice
on a real recording."""
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from emovc.core.audio import load_audio
from emovc.core.errors import UserError
from emovc.tts import exemplar as ex
from emovc.tts.contours import OUTPUTS, analyse, centre_stretch, speech_span

ROOT = Path(__file__).resolve().parents[1]
HELD_OUT = ROOT / "checkpoints" / "prosody_bank_heldout"     # built without RAVDESS actors 21-24
HELD_OUT_ACTORS = ("ravdess_21", "ravdess_22", "ravdess_23", "ravdess_24")


@pytest.fixture(scope="module")
def neutral_take(shared_data):
    """Actor 22 (not in the held-out bank), neutral: 'Kids are talking by the door'."""
    return load_audio(shared_data / "ravdess" / "Actor_22" / "03-01-01-01-01-01-22.flac")


@pytest.fixture(scope="module")
def held_out_pairs(shared_data):
    """Actors 21-24's real pairs (normal intensity; angry, happy and sad against the first neutral
    repetition of each sentence): their bank records (what their own takes did) and their neutral
    takes' contours."""
    from emovc.tts.emotion_model import pairs
    held = [p for p in pairs([shared_data / "ravdess"]) if p[0]["speaker"] in HELD_OUT_ACTORS
            and p[1]["emotion"] in ("angry", "happy", "sad") and p[1]["intensity"] == "normal"
            and Path(p[0]["path"]).stem.split("-")[5] == "01"]           # the first neutral repetition
    neutral = {p[0]["path"] for p in held}
    return ex.records(held, log=None, cache=False), [analyse(*load_audio(n)) for n in sorted(neutral)]


def _one_line_error(folder: Path, *words: str) -> None:
    ex._load.cache_clear()
    with pytest.raises(UserError) as caught:
        ex.load(folder)
    message = str(caught.value)
    assert "\n" not in message and all(w in message for w in words), message


def test_save_and_load_give_the_same_edit(tmp_path, neutral_take):
    bank = ex.load(HELD_OUT)
    with np.load(HELD_OUT / ex.NPZ, allow_pickle=False) as z:
        ex.save({k: z[k] for k in z.files}, tmp_path / "copy", {"name": "copy"})
    c = analyse(*neutral_take)
    np.testing.assert_array_equal(bank.edit(c.f0, c.energy, "happy", 0.5),
                                  ex.load(tmp_path / "copy").edit(c.f0, c.energy, "happy", 0.5))


def test_damaged_misshapen_or_pickled_banks_are_refused_with_one_line(tmp_path):
    folder = tmp_path / "bank"
    shutil.copytree(HELD_OUT, folder)
    data = (folder / ex.NPZ).read_bytes()
    (folder / ex.NPZ).write_bytes(data[: len(data) // 2])
    _one_line_error(folder, "sha256", "rebuild")
    (folder / ex.META).unlink()
    _one_line_error(folder, "cannot be read")
    with np.load(HELD_OUT / ex.NPZ, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    ex.save(dict(arrays, residual=arrays["residual"][:, :-1]), tmp_path / "misshapen", {})
    _one_line_error(tmp_path / "misshapen", "misshapen")
    ex.save(dict(arrays, k=np.array([object()], dtype=object)), tmp_path / "pickled", {})
    _one_line_error(tmp_path / "pickled", "not a valid array file")


def test_neutral_and_intensity_zero_change_nothing(neutral_take):
    from emovc.tts import render_emotion
    wav, sr = neutral_take
    c = analyse(wav, sr)
    bank = ex.load(HELD_OUT)
    assert not bank.edit(c.f0, c.energy, "neutral", 1.0).any()
    assert not bank.edit(c.f0, c.energy, "angry", 0.0).any()
    np.testing.assert_array_equal(render_emotion(wav, sr, "neutral", renderer="exemplar", emotion_model=HELD_OUT), wav)


def test_on_held_out_actors_the_contours_move_the_way_their_real_takes_do(held_out_pairs):
    """Over actors 21-24's neutral takes, the bank's mean change against what their own emotional takes
    did (normal intensity): angry and happy raise pitch and energy in both; sad is slower than neutral
    and than happy in both (per actor the real pace varies: two of the four keep or quicken it)."""
    from emovc.tts.emotion_model import TARGET_EMOTIONS
    real, neutral = held_out_pairs
    bank = ex.load(HELD_OUT)
    predicted, actual = {}, {}
    for emotion in ("angry", "happy", "sad"):
        edits = []
        for c in neutral:
            start, end = speech_span(c.energy)
            e = bank.edit(c.f0, c.energy, emotion, 0.5)[start:end]
            edits.append((e[:, 0].mean(), e[:, 1].mean(), np.log(np.exp(e[:, 2]).mean())))
        predicted[emotion] = np.mean(edits, axis=0)
        rows = real["emotion"] == TARGET_EMOTIONS.index(emotion)
        actual[emotion] = (real["residual"][rows][:, :, 0].mean(), real["residual"][rows][:, :, 1].mean(),
                           real["ratio"][rows].mean())
    for emotion in ("angry", "happy"):
        for values in (predicted[emotion], actual[emotion]):
            assert values[0] > 0.5 and values[1] > 1.5, (emotion, predicted, actual)
    for values in (predicted, actual):
        assert values["sad"][2] > 0 and values["sad"][2] > values["happy"][2], (predicted, actual)


def test_keep_voice_through_world_keeps_the_duration_plausible_and_raises_angry_pitch(neutral_take):
    from emovc.tts import render_emotion
    from emovc.tts.render import measure
    wav, sr = neutral_take
    before = measure(wav, sr)
    for emotion in ("angry", "sad"):
        out = render_emotion(wav, sr, emotion, "normal", renderer="exemplar", emotion_model=HELD_OUT, vocoder="world")
        assert out.dtype == np.float32 and np.all(np.isfinite(out)) and np.abs(out).max() <= 1.0
        assert 0.8 < len(out) / len(wav) < 1.4
        if emotion == "angry":
            after = measure(out, sr)
            assert after["f0_median"] > before["f0_median"] + 0.5 and after["energy"] > before["energy"] + 2


def test_centred_stretch_sets_the_pace_and_keeps_the_shape():
    energy = np.r_[np.full(10, -80.0), np.full(100, -20.0), np.full(10, -80.0)]
    stretch = np.sin(np.linspace(0, 6, 120)) * 0.3 - 0.2
    out = centre_stretch(stretch, energy, np.log(1.1))
    assert np.exp(out[10:110]).mean() == pytest.approx(1.1)
    np.testing.assert_allclose(np.diff(out[10:110]), np.diff(stretch[10:110]))


def test_build_command_builds_saves_and_the_bank_loads(shared_data, tmp_path, neutral_take):
    """Three takes of actor 1 (one neutral, two emotional, same words): the command runs end to end."""
    from emovc.tts.build_bank import main
    rows = ["path,corpus,speaker,gender,emotion,intensity,text,duration_s"]
    for code, emotion, level in (("01-01", "neutral", "normal"), ("05-01", "angry", "normal"), ("04-01", "sad", "normal")):
        path = shared_data / "ravdess" / "Actor_01" / f"03-01-{code}-01-01-01.flac"
        rows.append(f"{path},ravdess,ravdess_01,male,{emotion},{level},Kids are talking by the door,3.0")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "manifest.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    config = tmp_path / "tiny.yaml"
    config.write_text(f"name: tiny\ndata: {{sources: [{corpus}]}}\nk: 1\neval: {{speakers: []}}\n"
                      f"output: {{checkpoint: {tmp_path / 'bank'}, results: {tmp_path / 'results'}}}\n", encoding="utf-8")
    assert main(["--config", str(config)]) == 0
    assert json.loads((tmp_path / "bank" / ex.META).read_text())["k"] == 1
    c = analyse(*neutral_take)
    edit = ex.load(tmp_path / "bank").edit(c.f0, c.energy, "angry", 0.5)
    assert np.isfinite(edit).all() and edit[:, OUTPUTS.index("energy")].mean() > 0
