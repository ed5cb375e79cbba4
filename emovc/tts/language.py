"""A guess at the language of a text among those the voices speak (en, es, fr, it, pt, hi): the
script for Hindi, else the share of each language's commonest words and its own letters.
No model: enough to notice Spanish given to an English voice, not a language identifier."""
import re

NAMES = {"en": "English", "es": "Spanish", "fr": "French", "it": "Italian", "pt": "Portuguese", "hi": "Hindi"}
COMMON = {      # frequent short words; words two languages share count for both
    "en": "the and is are was of to in it you that this with for not have what my be we he she they i am a an",
    "es": "el la los las y es de que en un una por con para no está están muy pero lo se del al hola gracias "
          "como cómo qué yo tú usted estás soy somos mi su me llamo",
    "fr": "le la les et est de des un une je vous nous pas que qui dans pour avec ce c'est bonjour merci il "
          "elle sur du au suis êtes sont mon ma très",
    "it": "il lo la gli le e è di che un una per non con sono sei mi ti ciao grazie della del questo molto "
          "io tu lei siamo come sta",
    "pt": "o a os as e é de que um uma não para com por eu você obrigado obrigada muito do da dos das em "
          "no na está estou sou",
}
LETTERS = {"es": "ñ¿¡", "fr": "çêœàèù", "it": "ìò", "pt": "ãõç"}


def guess_language(text: str) -> str | None:
    """The ISO 639-1 code of the language `text` is most likely in, or None when it is too short
    or too mixed to tell (fewer than two of a language's common words, or a tie)."""
    if re.search(r"[\u0900-\u097F]", text):
        return "hi"
    words = re.findall(r"[^\W\d_]+(?:'[^\W\d_]+)?", text.lower())
    scores = {}
    for code, common in COMMON.items():
        known = set(common.split())
        scores[code] = sum(w in known for w in words) + sum(text.lower().count(c) for c in LETTERS.get(code, ""))
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    (best, score), (_, second) = ranked[0], ranked[1]
    return best if score >= 2 and score > second else None
