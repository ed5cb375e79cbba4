"""Kokoro's editable graph: the emotion's durations, F0 and energy are applied to the predicted
contours inside the synthesis (the contours the decoder receives are read back and compared)."""
import numpy as np
import pytest

from emovc.core.errors import UserError
from emovc.tts.engines import load_engine
from emovc.tts.kokoro_graph import editable_graph, phoneme_class, prosody_inputs
from emovc.tts.profiles import Prosody
from emovc.tts.render import measure

TEXT = "The birch canoe slid on the smooth planks."


@pytest.fixture(scope="module")
def engine():
    return load_engine("kokoro")


def _speak(engine, prosody=None, pitch=0.0):
    wav = engine(TEXT, "bf_emma", prosody=prosody, pitch=pitch)
    return wav, engine.last_contours[0]


def test_phoneme_classes_and_neutral_inputs_leave_the_prediction_alone():
    assert [phoneme_class(c) for c in "ðə ."] == ["consonant", "vowel", "pause", "pause"]
    neutral = prosody_inputs("ðə", None)
    assert np.all(neutral["duration_scale"] == 1) and neutral["duration_scale"].shape == (1, 4)
    assert neutral["f0_shift"][0] == 1 and neutral["f0_range"][0] == 1 and neutral["energy_offset"][0] == 0


def test_neutral_contour_is_the_predicted_one(engine):
    _, c = _speak(engine)
    assert np.allclose(c["f0"], c["f0_predicted"], rtol=1e-4)


def test_slower_rate_stretches_vowels_and_pauses_more_than_consonants(engine):
    slow = prosody_inputs("ðə bˈɜːtʃ.", Prosody(rate=0.8))["duration_scale"][0, 1:-1]
    classes = [phoneme_class(c) for c in "ðə bˈɜːtʃ."]
    by = {k: slow[[i for i, c in enumerate(classes) if c == k]].mean() for k in set(classes)}
    assert by["pause"] > by["vowel"] > by["consonant"] > 1
    neutral, c0 = _speak(engine)
    slowed, c1 = _speak(engine, Prosody(rate=0.8))
    assert c1["durations"].sum() > 1.15 * c0["durations"].sum()     # frames the decoder renders (edge silences kept)
    mild, c2 = _speak(engine, Prosody(rate=0.93))                    # sad's normal profile
    assert c2["durations"].sum() > 1.05 * c0["durations"].sum()
    assert measure(slowed, 24000)["duration"] > 1.2 * measure(neutral, 24000)["duration"]


def test_f0_shift_and_range_act_on_the_contour_and_the_output(engine):
    neutral, c0 = _speak(engine)
    raised, c1 = _speak(engine, Prosody(pitch=4.0, range=1.5))
    voiced = c1["f0_predicted"] > 50
    st = 12 * np.log2(c1["f0"][voiced] / c1["f0_predicted"][voiced])
    assert abs(np.median(st) - 4.0) < 1.0                           # shifted by 4 st around the centre
    assert np.ptp(np.log(c1["f0"][voiced])) > 1.3 * np.ptp(np.log(c1["f0_predicted"][voiced]))
    m0, m1 = measure(neutral, 24000), measure(raised, 24000)
    assert 3.0 < m1["f0_median"] - m0["f0_median"] < 5.0            # heard in the output, semitones
    assert m1["f0_range"] > 1.2 * m0["f0_range"]


def test_energy_offset_moves_the_energy_contour(engine):
    _, c0 = _speak(engine)
    _, c1 = _speak(engine, Prosody(energy=10.0))
    assert np.allclose(c1["energy"] - c0["energy"], 10 * np.log(10) / 20, atol=1e-4)


def test_synthesize_puts_the_emotions_profile_on_the_contours(engine):
    from emovc.tts import synthesize
    from emovc.tts.profiles import profile
    synthesize(TEXT, emotion="neutral", voice="youngwoman", renderer="profile")
    neutral = engine.last_contours[0]
    synthesize(TEXT, emotion="angry", voice="youngwoman", renderer="profile")
    angry = engine.last_contours[0]
    voiced = angry["f0_predicted"] > 50
    shift = np.median(12 * np.log2(angry["f0"][voiced] / angry["f0_predicted"][voiced]))
    assert abs(shift - profile("angry").pitch) < 0.5                 # +3.4 st, on the decoder's input
    synthesize(TEXT, emotion="sad", voice="youngwoman", intensity="strong", renderer="profile")
    assert engine.last_contours[0]["durations"].sum() > 1.1 * neutral["durations"].sum()   # rate 0.79


def test_a_graph_without_the_known_tensors_is_refused():
    from onnx import TensorProto, helper
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    other = helper.make_model(helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g", [x],
                                                [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])]))
    with pytest.raises(UserError, match="not the graph tts/kokoro_graph.py edits"):
        editable_graph(other.SerializeToString())
