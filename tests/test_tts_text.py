"""Text front end: numbers, abbreviations and symbols as words; sentence splitting; empty text."""
import pytest

from emovc.core.errors import UserError
from emovc.tts.text import normalise_text, prepare, split_sentences


@pytest.mark.parametrize("text, words", [
    ("I have 3 cats.", "I have three cats."),
    ("Dr. Smith paid $3.50 today.", "Doctor Smith paid three dollars and fifty cents today."),
    ("Meet me at 10:05 on the 21st.", "Meet me at ten oh five on the twenty-first."),
    ("It was 1990.", "It was nineteen ninety."),
    ("Only 25% of 1,250 people.", "Only twenty-five percent of one thousand, two hundred and fifty people."),
    ("Pi is 3.14", "Pi is three point one four"),
    ("It fell to -5 °C", "It fell to minus five degrees Celsius"),
    ("Tom & Jerry @ home", "Tom and Jerry at home"),
    ("Mr. Brown met Mrs. Green e.g. today", "Mister Brown met Missus Green for example today"),
    ("The train leaves at 7:45 from platform 3.", "The train leaves at seven forty-five from platform three."),
    ("Meet at 7:45pm, or 10:05 a.m. sharp.", "Meet at seven forty-five p m, or ten oh five a m sharp."),
    ("At 12:00 PM.", "At twelve o'clock p m."),
    ("It is 19:30 on the 2nd of May 2024.", "It is nineteen thirty on the second of May two thousand and twenty-four."),
    ("Dr. Jones paid $12 for 2 tickets.", "Doctor Jones paid twelve dollars for two tickets."),
])
def test_normalise_text_reads_numbers_abbreviations_and_symbols(text, words):
    assert normalise_text(text) == words


def test_split_sentences_at_marks_and_line_breaks():
    assert split_sentences("Hello there! How are you? Fine.\nNext line") == \
        ["Hello there!", "How are you?", "Fine.", "Next line"]


def test_long_sentence_is_cut_at_clause_marks_within_the_limit():
    sentence = ", ".join(["the quick brown fox jumps over the lazy dog"] * 12) + "."
    pieces = split_sentences(sentence, max_chars=100)
    assert len(pieces) > 1 and all(len(p) <= 100 for p in pieces)
    assert " ".join(pieces) == sentence


@pytest.mark.parametrize("text", ["", "   ", "\n\n", "...", " - ! "])
def test_empty_text_is_a_user_error(text):
    with pytest.raises(UserError, match="empty"):
        prepare(text)


def test_other_languages_are_not_read_as_english():
    assert prepare("Son las 7:45 de la tarde, 3 euros.", language="es") == ["Son las 7:45 de la tarde, 3 euros."]
    assert prepare("It is 7:45.") == ["It is seven forty-five."]
