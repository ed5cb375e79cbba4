"""Emotion labels: the canonical 8-class set and a synonym map, loaded from emotions.yaml."""
from pathlib import Path

import yaml

from core.errors import UserError


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
