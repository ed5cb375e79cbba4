"""emovc/ser/text.py: the words' emotion from the NRC Emotion Lexicon, the label map check, fusion."""
import pytest

from emovc.core.errors import UserError
from emovc.core.labels import EMOTIONS
from emovc.ser import Prediction
from emovc.ser.text import LABEL_MAP, load_label_map, load_text_model, text_emotion, fuse


@pytest.mark.parametrize("text, label", [
    ("I'm so happy you came, this is wonderful!", "happy"),
    ("He died and we cried at the funeral.", "sad"),
    ("I'm furious, stop shouting at me!", "angry"),
    ("I was afraid, I panicked, it was a horror.", "fearful"),
    ("What a disgusting, filthy pile of vomit.", "disgust"),
    ("The meeting is on the second floor.", "neutral"),
    ("", "neutral"),
])
def test_plain_sentences(text, label):
    prediction = text_emotion(text)
    assert prediction.label == label
    assert set(prediction.probabilities) == set(EMOTIONS)
    assert sum(prediction.probabilities.values()) == pytest.approx(1.0)
    assert min(prediction.probabilities.values()) > 0


def test_inflections_and_negation():
    assert text_emotion("Everyone laughed.").label == "happy"          # 'laughed' via the stem 'laugh'
    assert text_emotion("I am not happy at all.").label != "happy"     # a negated word does not count
    assert text_emotion("Don’t worry.").label == "neutral"            # typographic apostrophe too


def test_more_emotion_words_mean_more_confidence():
    one, two = text_emotion("a happy day"), text_emotion("a happy, joyful, wonderful day")
    assert two.probabilities["happy"] > one.probabilities["happy"]


def test_label_map_is_checked_at_load(tmp_path):
    categories = set(load_text_model().label_map)
    assert load_label_map(LABEL_MAP, categories)
    bad = tmp_path / "map.yaml"
    bad.write_text(LABEL_MAP.read_text().replace("joy: {happy: 1.0}", "joy: {joyful: 1.0}"))
    with pytest.raises(UserError, match="emotions among"):
        load_label_map(bad, categories)
    bad.write_text(LABEL_MAP.read_text().replace("joy: {happy: 1.0}", ""))
    with pytest.raises(UserError, match="exactly the lexicon's categories"):
        load_label_map(bad, categories)


def test_fusion_weights_and_labels():
    voice = Prediction("uncertain", {"happy": 0.5, "sad": 0.3, "calm": 0.2})   # label not a key
    text = Prediction("sad", {e: 0.9 if e == "sad" else 0.1 / 7 for e in EMOTIONS})
    assert fuse(voice, text, 0.0).probabilities["happy"] == pytest.approx(0.5)
    assert fuse(voice, text, 0.0).label == "happy"
    assert fuse(voice, text, 1.0).label == "sad"
    mixed = fuse(voice, text, 0.5)
    assert mixed.label == "sad" and mixed.probabilities["sad"] == pytest.approx(0.6)
    assert set(mixed.probabilities) == set(EMOTIONS)
    assert sum(mixed.probabilities.values()) == pytest.approx(1.0)
    with pytest.raises(UserError, match="between 0 and 1"):
        fuse(voice, text, 1.5)


def test_unknown_model_is_a_user_error():
    with pytest.raises(UserError, match="unknown text emotion model 'bert'"):
        text_emotion("hello", model="bert")


def test_fusion_keeps_the_recognisers_uncertain_threshold():
    voice = Prediction.of(["happy", "sad"], [0.55, 0.45], uncertain_below=0.6)
    text = Prediction.of(["happy", "sad"], [0.5, 0.5])
    assert fuse(voice, text, 0.0, uncertain_below=0.6).label == "uncertain"
    assert fuse(voice, text, 0.0).label == "happy"
