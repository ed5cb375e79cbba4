"""Text front end: numbers, abbreviations and symbols as words; text split into sentences.

The readings of abbreviations and symbols are data (tts/lexicon.yaml); numbers are read by
num2words (cardinals, ordinals, decimals, years, times, money).
"""
import re
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import yaml

from emovc.core.errors import ConfigError, UserError

LEXICON = Path(__file__).with_name("lexicon.yaml")
MAX_CHARS = 300          # longer sentences are cut at clause marks so no engine sees a huge input


@lru_cache(maxsize=1)
def lexicon() -> dict[str, dict]:
    table = yaml.safe_load(LEXICON.read_text(encoding="utf-8"))
    if not isinstance(table, dict) or set(table) != {"abbreviations", "symbols", "currencies"}:
        raise ConfigError(f"{LEXICON}: needs exactly the sections abbreviations, symbols, currencies")
    for section in ("abbreviations", "symbols"):
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in table[section].items()):
            raise ConfigError(f"{LEXICON}: {section} must map text to words")
    if not all(isinstance(v, list) and len(v) == 4 for v in table["currencies"].values()):
        raise ConfigError(f"{LEXICON}: each currency needs [unit, units, subunit, subunits]")
    return table


def _say(number: str, **kwargs) -> str:
    from num2words import num2words
    return f" {num2words(Decimal(number.replace(',', '')), **kwargs)} "


def _money(m: re.Match) -> str:
    unit, units, sub, subs = lexicon()["currencies"][m[1]]
    whole, cents = int(m[2].replace(",", "")), int((m[3] or "0").ljust(2, "0"))
    words = f"{_say(str(whole))}{unit if whole == 1 else units}"
    return words + (f" and{_say(str(cents))}{sub if cents == 1 else subs} " if cents else " ")


def _time(m: re.Match) -> str:
    hours, minutes = int(m[1]), int(m[2])
    return _say(str(hours)) + ("o'clock " if minutes == 0 else ("oh" if minutes < 10 else "") + _say(str(minutes)))


def _integer(m: re.Match) -> str:
    value = int(m[0].replace(",", ""))
    year = 1100 <= value <= 1999 and "," not in m[0]
    return _say(m[0], to="year") if year else _say(m[0])


def normalise_text(text: str) -> str:
    """`text` with numbers, abbreviations and symbols spelt out as words, whitespace tidied."""
    table = lexicon()
    for short, long in table["abbreviations"].items():
        text = re.sub(rf"(?<![\w.]){re.escape(short)}(?!\w)", long, text)
    currencies = "".join(map(re.escape, table["currencies"]))
    text = re.sub(rf"([{currencies}])\s?(\d[\d,]*)(?:\.(\d{{1,2}}))?\b", _money, text)
    for symbol, word in sorted(table["symbols"].items(), key=lambda kv: -len(kv[0])):
        text = text.replace(symbol, f" {word} ")
    text = re.sub(r"\b(\d{1,2}):(\d{2})(?::\d{2})?\s*([ap])\.?m\b(?:\.(?=\s+[a-z]))?",
                  lambda m: f"{_time(m)}{m[3].lower()} m ", text, flags=re.I)
    text = re.sub(r"\b(\d{1,2}):(\d{2})\b", _time, text)
    text = re.sub(r"\b(\d+)(?:st|nd|rd|th)\b", lambda m: _say(m[1], to="ordinal"), text)
    text = re.sub(r"(?<![\w.])-(?=\d)", " minus ", text)
    text = re.sub(r"\d[\d,]*\.\d+", lambda m: _say(m[0]), text)
    text = re.sub(r"\d{1,3}(?:,\d{3})+(?!\d)|\d+", _integer, text)
    return re.sub(r"[ \t]+", " ", re.sub(r" +([,.;:!?])", r"\1", text)).strip()


def split_sentences(text: str, max_chars: int = MAX_CHARS) -> list[str]:
    """Sentences of `text` (split after . ! ? … and at line breaks); long ones cut at , ; :."""
    pieces = []
    for sentence in re.split(r"(?<=[.!?…])[\"'”’)\]]*\s+|\s*\n\s*", text):
        sentence = sentence.strip()
        while len(sentence) > max_chars:
            cut = max((m.end() for m in re.finditer(r"[,;:]\s", sentence[:max_chars])), default=0)
            cut = cut or sentence.rfind(" ", 0, max_chars) + 1 or max_chars
            pieces.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        pieces.append(sentence)
    return [p for p in pieces if re.search(r"\w", p)]


def prepare(text: str, language: str = "en") -> list[str]:
    """Sentences ready for an engine; UserError when there is nothing to say. English text is
    normalised here; other languages go as they are (espeak-ng reads their numbers)."""
    text = str(text)
    sentences = split_sentences(normalise_text(text) if language == "en" else text)
    if not sentences:
        raise UserError("the text is empty; give some words to speak")
    return sentences
