"""Emotion labels: the canonical 8-class set and a synonym map (loaded from emotions.yaml), the
two labels that are not emotions, and `Prediction`, what every stage answers."""
from dataclasses import dataclass
from pathlib import Path

import yaml

from emovc.core.errors import UserError


def _load_synonyms(path: Path) -> dict[str, str]:
    table = yaml.safe_load(path.read_text(encoding="utf-8"))
    synonyms: dict[str, str] = {}
    for label, names in table.items():
        if label != label.lower() or label not in names:
            raise ValueError(f"{path}: label {label!r} must be lower-case and list itself")
        for name in names:
            if synonyms.setdefault(name.lower(), label) != label:
                raise ValueError(f"{path}: synonym {name!r} used for two labels")
    return synonyms


SYNONYMS = _load_synonyms(Path(__file__).with_name("emotions.yaml"))
EMOTIONS: tuple[str, ...] = tuple(dict.fromkeys(SYNONYMS.values()))
UNCERTAIN = "uncertain"     # the top probability is below the recogniser's threshold
SILENCE = "silence"         # a window of a timeline without speech


def normalise_emotion(name: str) -> str:
    """Map any accepted spelling (HAPPY, Fear, disgusted, ...) to its canonical label."""
    try:
        return SYNONYMS[str(name).strip().lower()]
    except KeyError:
        raise UserError(f"unknown emotion {name!r}; choose one of: {', '.join(EMOTIONS)}") from None


def shown(label: str, probabilities: dict[str, float], n: int = 3) -> str:
    """A prediction as every command shows it: its label, then the `n` most likely emotions with
    their probabilities, e.g. 'angry (angry 87%, sad 6%, calm 3%)' or 'uncertain (sad 45%, angry 22%)'."""
    ranked = sorted(probabilities.items(), key=lambda kv: -kv[1])[:n]
    return f"{label} (" + ", ".join(f"{emotion} {p:.0%}" for emotion, p in ranked) + ")"


@dataclass(frozen=True)
class Prediction:
    """An emotion with the probability of each; the label is UNCERTAIN when the top probability is
    below the recogniser's threshold (the probabilities are still given)."""
    label: str
    probabilities: dict[str, float]

    @property
    def top(self) -> str:
        """The most probable emotion, whether or not the model is sure of it."""
        return max(self.probabilities, key=self.probabilities.get)

    @property
    def confidence(self) -> float:
        return self.probabilities[self.top]

    @classmethod
    def of(cls, labels: list[str], probs, uncertain_below: float = 0.0) -> "Prediction":
        probabilities = {l: float(v) for l, v in zip(labels, probs)}
        top = max(probabilities, key=probabilities.get)
        return cls(UNCERTAIN if probabilities[top] < uncertain_below else top, probabilities)

    def to_dict(self) -> dict:
        """As every JSON output gives it: label, top emotion, probabilities rounded to 4 places."""
        return {"label": self.label, "top": self.top,
                "probabilities": {k: round(float(v), 4) for k, v in self.probabilities.items()}}

    def __str__(self) -> str:
        return shown(self.label, self.probabilities)
