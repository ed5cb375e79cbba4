"""The emotion profiles (emovc/tts/profiles.yaml, built from RAVDESS by `python -m emovc.tts.build_profiles`):
how each emotion at each intensity differs from the same actor's neutral speech, as global statistics."""
from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Literal

from emovc.core.config import load_config
from emovc.core.errors import ConfigError, UserError
from emovc.core.labels import EMOTIONS, normalise_emotion

PROFILES = Path(__file__).with_name("profiles.yaml")
INTENSITIES = {"normal": 0.5, "strong": 1.0}   # RAVDESS's two intensity levels on the 0..1 scale


@dataclass(frozen=True)
class Prosody:
    pitch: float = 0.0
    range: float = 1.0
    rate: float = 1.0
    energy: float = 0.0
    tilt: float = 0.0
    hnr: float = 0.0

    def scaled(self, weight: float) -> "Prosody":
        """Neutral at 0, self at 1: additive fields linearly, ratios geometrically."""
        return Prosody(pitch=self.pitch * weight, range=self.range ** weight, rate=self.rate ** weight,
                       energy=self.energy * weight, tilt=self.tilt * weight, hnr=self.hnr * weight)


@dataclass
class ProfileTable:
    source: str
    emotions: dict[str, dict[Literal["normal", "strong"], Prosody]]


def parse_intensity(intensity: str | float) -> float:
    """'normal' -> 0.5 (RAVDESS normal), 'strong' -> 1.0 (RAVDESS strong), or a number 0..1.

    0 leaves the voice neutral; between the anchors the profile is interpolated.
    """
    if isinstance(intensity, str):
        key = intensity.strip().lower()
        if key in INTENSITIES:
            return INTENSITIES[key]
        try:
            intensity = float(key)
        except ValueError:
            raise UserError(f"unknown intensity {intensity!r}; use normal, strong or a number from 0 to 1") from None
    value = float(intensity)
    if not 0.0 <= value <= 1.0:
        raise UserError(f"intensity {value:g} is out of range; use normal, strong or a number from 0 to 1")
    return value


@lru_cache(maxsize=2)
def load_profiles(path: Path = PROFILES) -> dict[str, dict[str, Prosody]]:
    """The validated profile table: every emotion, both intensities, plausible values."""
    table = load_config(path, ProfileTable).emotions
    missing = [e for e in EMOTIONS if e not in table]
    if missing:
        raise ConfigError(f"{path}: no profile for {', '.join(missing)}; rebuild with python -m emovc.tts.build_profiles")
    for emotion, levels in table.items():
        normalise_emotion(emotion)
        for level, p in levels.items():
            if not (0.25 <= p.range <= 4 and 0.5 <= p.rate <= 2 and all(abs(v) <= 24 for v in (p.pitch, p.energy, p.tilt, p.hnr))):
                raise ConfigError(f"{path}: {emotion}.{level} has implausible values {asdict(p)}")
    return table


def profile(emotion: str, intensity: str | float = "normal") -> Prosody:
    """The prosody change for `emotion` at `intensity` (see `parse_intensity`)."""
    levels = load_profiles()[normalise_emotion(emotion)]
    x = parse_intensity(intensity)
    normal = levels.get("normal", Prosody())
    strong = levels.get("strong", normal)
    if x <= 0.5:
        return normal.scaled(x / 0.5)
    w = (x - 0.5) / 0.5
    return Prosody(**{f.name: (getattr(normal, f.name) ** (1 - w) * getattr(strong, f.name) ** w
                               if f.name in ("range", "rate") else
                               (1 - w) * getattr(normal, f.name) + w * getattr(strong, f.name))
                      for f in fields(Prosody)})
