"""The emotion of the words, and its late fusion with the voice's.

    from emovc.ser.text import text_emotion, fuse
    words = text_emotion("I'm so happy you came!")     # -> Prediction over the eight emotions
    fused = fuse(voice, words, weight=0.3)             # (1 - w) * voice + w * text

Models live in `TEXT_MODELS`. The default, 'nrc', counts the words of the NRC Emotion Lexicon
(Mohammad & Turney 2013, as packaged by NRCLex on PyPI; lexicon for research use only) and maps
its categories onto the project's labels with `text_labels.yaml`. Offline, about 6,500 words,
loaded on first use in a few milliseconds.
"""
import importlib.util
import json
import re
from functools import lru_cache
from pathlib import Path

import yaml

from emovc.core.errors import UserError
from emovc.core.labels import EMOTIONS
from emovc.core.registry import Registry
from emovc.ser.recognizer import Prediction

TEXT_MODELS: Registry = Registry("text emotion model")
LABEL_MAP = Path(__file__).with_name("text_labels.yaml")
NEUTRAL_PRIOR = 0.5     # pseudo-count: one emotion word outweighs it; text without any reads as neutral
SMOOTHING = 0.05        # pseudo-count for every label, so no probability is exactly 0
NEGATIONS = {"not", "no", "never", "nobody", "nothing", "don't", "didn't", "isn't", "wasn't", "can't",
             "won't", "doesn't", "aren't", "weren't", "without"}
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_SUFFIXES = (("ied", "y"), ("ies", "y"), ("ing", ""), ("ing", "e"), ("ed", ""), ("ed", "e"), ("es", ""),
             ("s", ""), ("ly", ""), ("ness", ""))


def load_label_map(path: Path, categories: set[str]) -> dict[str, dict[str, float]]:
    """`category -> {emotion: weight}`, checked against the lexicon's categories and EMOTIONS."""
    table = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(table, dict) or set(table) != categories:
        raise UserError(f"{path}: must map exactly the lexicon's categories: {', '.join(sorted(categories))}")
    for category, targets in table.items():
        if not isinstance(targets, dict) or not all(
                t in EMOTIONS and isinstance(w, (int, float)) and w > 0 for t, w in targets.items()):
            raise UserError(f"{path}: '{category}' must map to {{emotion: positive weight}} with emotions "
                            f"among: {', '.join(EMOTIONS)}")
    return table


@TEXT_MODELS.register("nrc")
class NrcLexicon:
    """Word counting over the NRC Emotion Lexicon, with simple suffix stripping and negation."""

    def __init__(self):
        spec = importlib.util.find_spec("nrclex")     # the data file only; the package is not imported
        if spec is None or not spec.submodule_search_locations:
            raise UserError("the NRC Emotion Lexicon is not installed; run: pip install nrclex")
        path = Path(next(iter(spec.submodule_search_locations))) / "data" / "nrc_en.json"
        self.lexicon: dict[str, list[str]] = json.loads(path.read_text(encoding="utf-8"))
        categories = {c for cats in self.lexicon.values() for c in cats}
        self.label_map = load_label_map(LABEL_MAP, categories)

    def categories(self, word: str) -> list[str]:
        """The lexicon's categories for a word or, failing that, for its stem."""
        if word in self.lexicon:
            return self.lexicon[word]
        for suffix, repl in _SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                stem = word[: -len(suffix)] + repl
                if stem in self.lexicon:
                    return self.lexicon[stem]
        return []

    def predict(self, text: str) -> Prediction:
        scores = dict.fromkeys(EMOTIONS, SMOOTHING)
        scores["neutral"] += NEUTRAL_PRIOR
        words = _WORD.findall(text.lower().replace("\u2019", "'"))
        for i, word in enumerate(words):
            if NEGATIONS.intersection(words[max(0, i - 2):i]):
                continue                # "not happy", "don't worry": the word's emotion is not meant
            for category in self.categories(word):
                for emotion, weight in self.label_map[category].items():
                    scores[emotion] += weight
        total = sum(scores.values())
        probabilities = {e: s / total for e, s in scores.items()}
        return Prediction(max(probabilities, key=probabilities.get), probabilities)


@lru_cache(maxsize=4)
def load_text_model(name: str = "nrc"):
    """A text emotion model, loaded once per process."""
    return TEXT_MODELS.get(name)()


def text_emotion(text: str, model: str = "nrc") -> Prediction:
    """The emotion of `text` as probabilities over the eight emotions (neutral when no emotion words)."""
    return load_text_model(model).predict(text)


def fuse(voice: Prediction, text: Prediction, weight: float, uncertain_below: float = 0.0) -> Prediction:
    """Late fusion: `(1 - weight) * voice + weight * text` per label; the label is the top one,
    or 'uncertain' when its probability is under `uncertain_below` (the recogniser's threshold)."""
    if not 0.0 <= weight <= 1.0:
        raise UserError(f"text fusion weight {weight!r} must be between 0 and 1")
    labels = list(dict.fromkeys([*voice.probabilities, *text.probabilities]))
    probabilities = {label: (1 - weight) * voice.probabilities.get(label, 0.0)
                     + weight * text.probabilities.get(label, 0.0) for label in labels}
    return Prediction.of(labels, [probabilities[label] for label in labels], uncertain_below)
