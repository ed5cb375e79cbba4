"""Synthesis end to end: every voice x emotion, the F0 order of the voices, names, errors, CLI."""
import subprocess
import sys

import numpy as np
import pytest

from emovc.core.audio import load_audio
from emovc.core.errors import ConfigError, UserError
from emovc.core.labels import EMOTIONS
from emovc.tts import VOICES, synthesize, voice_names
from emovc.tts.render import measure
from emovc.tts.voices import Voice, load_voices, with_voices

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]
TEXT = "Open the door, please."


@pytest.fixture(scope="module")
def renderings():
    """Every voice x emotion for one short sentence, made once (one engine load per engine)."""
    return {(v, e): synthesize(TEXT, emotion=e, voice=v) for v in voice_names() for e in EMOTIONS}


def test_the_four_voices_are_defined():
    assert {"youngwoman", "youngman", "smallgirl", "middlemale"} <= set(VOICES)


@pytest.mark.parametrize("voice", ["youngwoman", "youngman", "smallgirl", "middlemale"])
@pytest.mark.parametrize("emotion", EMOTIONS)
def test_every_voice_and_emotion_gives_finite_audible_speech(renderings, voice, emotion):
    wav, sr = renderings[voice, emotion]
    assert wav.dtype == np.float32 and wav.ndim == 1 and np.all(np.isfinite(wav))
    assert np.abs(wav).max() <= 1.0 and np.sqrt(np.mean(wav ** 2)) > 0.01
    assert 0.6 < len(wav) / sr < 4.0                 # four words


def test_voice_f0_order_smallgirl_youngwoman_youngman_middlemale(renderings):
    f0 = {v: measure(*renderings[v, "neutral"])["f0_median"] for v in voice_names()}
    assert f0["smallgirl"] > f0["youngwoman"] > f0["youngman"] > f0["middlemale"]


@pytest.mark.parametrize("voice", ["youngwoman", "piper"])     # inside Kokoro; post hoc for Piper
def test_emotions_differ_from_neutral_in_the_profiles_direction(voice):
    voices = {**VOICES, "piper": Voice(engine="piper")}
    neutral = measure(*synthesize(TEXT, emotion="neutral", voice=voice, voices=voices))
    angry = measure(*synthesize(TEXT, emotion="angry", voice=voice, renderer="profile", voices=voices))
    sad = measure(*synthesize(TEXT, emotion="sad", voice=voice, intensity="strong", renderer="profile", voices=voices))
    assert sad["duration"] > 1.1 * neutral["duration"]                # profile: rate 0.79
    assert angry["f0_median"] > neutral["f0_median"] + 1               # profile: +3.4 st


def test_names_are_case_insensitive_and_emotion_synonyms_work():
    wav, sr = synthesize("Yes.", emotion="DISGUSTED", voice="YoungMan", intensity=0.3)
    assert len(wav) > 0.2 * sr


@pytest.mark.parametrize("kwargs, message", [
    ({"text": ""}, "empty"),
    ({"text": "Hi.", "voice": "robot"}, "choose one of: middlemale, smallgirl, youngman, youngwoman"),
    ({"text": "Hi.", "emotion": "bored"}, "unknown emotion"),
    ({"text": "Hi.", "intensity": "extreme"}, "normal, strong or a number"),
    ({"text": "Hi.", "engine": "piper"}, "has no speaker for engine 'piper'"),
])
def test_bad_requests_are_user_errors(kwargs, message):
    with pytest.raises(UserError, match=message):
        synthesize(**kwargs)


def test_emotivoice_engine_without_checkout_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("EMOTIVOICE_DIR", raising=False)
    with pytest.raises(UserError, match="EmotiVoice checkout not found"):
        synthesize("Hi.", voice="youngwoman", engine="emotivoice")


def test_user_voice_table_adds_voices_and_is_validated(tmp_path):
    table = tmp_path / "voices.yaml"
    table.write_text("voices:\n  Narrator:\n    engine: kokoro\n    speaker: bf_emma\n    rate: 0.9\n")
    voices = with_voices(table)
    assert set(voice_names(voices)) == set(VOICES) | {"narrator"} and "narrator" not in VOICES
    wav, sr = synthesize("Hi.", voice="Narrator", voices=voices)
    assert len(wav) > 0.2 * sr
    with pytest.raises(UserError, match="unknown voice 'narrator'"):
        synthesize("Hi.", voice="narrator")                     # the shipped table stays as it was
    with pytest.raises(TypeError):
        VOICES["narrator"] = voices["narrator"]                 # and cannot be changed in place
    table.write_text("voices:\n  bad:\n    engine: espeak\n")
    with pytest.raises(ConfigError, match="unknown engine 'espeak'"):
        load_voices(table)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "emovc.tts", *args], cwd=ROOT, capture_output=True, text=True)


def test_cli_writes_a_wav_and_never_overwrites(tmp_path):
    out = tmp_path / "out.wav"
    done = _cli("Hello there.", "--emotion", "HAPPY", "--speaker", "middlemale", "-o", str(out), "--intensity", "strong")
    assert done.returncode == 0, done.stderr
    wav, sr = load_audio(out)
    assert sr == 24000 and len(wav) > 0.3 * sr
    again = _cli("Other words.", "--speaker", "middlemale", "-o", str(out))
    assert again.returncode == 2 and "already exists" in again.stderr and "Traceback" not in again.stderr
    assert np.array_equal(load_audio(out)[0], wav)


@pytest.mark.parametrize("args, message", [
    (["", "-o", "x.wav"], "empty"),
    (["Hi.", "--speaker", "robot", "-o", "x.wav"], "unknown voice 'robot'"),
])
def test_cli_errors_are_one_line(tmp_path, args, message):
    args[args.index("-o") + 1] = str(tmp_path / "x.wav")
    done = _cli(*args)
    assert done.returncode == 2 and done.stderr.startswith("error:") and message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and not (tmp_path / "x.wav").exists()


def test_the_first_voice_table_stays_selectable():
    old = load_voices(ROOT / "emovc" / "tts" / "voices_v1.yaml")
    assert old["youngwoman"].speaker == "jf_gongitsune" and old["middlemale"].engine == "piper"


def test_a_voice_speaks_its_other_languages_and_names_them_for_one_it_lacks():
    wav, sr = synthesize("Hola, ¿qué tal?", voice="youngman", language="es")
    assert np.sqrt(np.mean(wav ** 2)) > 0.01 and 0.4 < len(wav) / sr < 3
    with pytest.raises(UserError, match=r"no voice for language 'de'; this voice speaks en, es, hi, it, pt;"
                                        r".*--set asr.language=en"):
        synthesize("Guten Tag.", voice="youngman", language="de")


def test_cli_guesses_the_text_language_and_warns_when_told_another(tmp_path):
    """Spanish text without --language is spoken in Spanish (Whisper hears Spanish words); with
    --language en it is spoken as told, with a warning."""
    from emovc.asr import load_asr
    text = "Hola, ¿cómo estás? Me llamo María y vivo en Madrid."
    done = _cli(text, "-o", str(tmp_path / "es.wav"))
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "note: the text looks Spanish; speaking it as es (--language sets it)"
    heard = load_asr("whisper", "base", "auto").transcribe(str(tmp_path / "es.wav"))
    assert heard.language == "es" and "madrid" in heard.text.lower(), heard.text
    told = _cli(text, "--language", "en", "-o", str(tmp_path / "en.wav"))
    assert told.returncode == 0 and (tmp_path / "en.wav").is_file()
    assert told.stderr.startswith("warning: the text looks Spanish, not en; ") and "--language es" in told.stderr
    english = _cli("We waited all afternoon, but nobody came.", "-o", str(tmp_path / "plain.wav"))
    assert english.returncode == 0 and english.stderr == ""


@pytest.mark.parametrize("text, language", [
    ("We waited all afternoon, but nobody came to the meeting.", "en"),
    ("Mañana vamos a la playa con mis amigos.", "es"),
    ("Bonjour, je suis très content de vous voir.", "fr"),
    ("Ciao, come stai? Io sono molto felice.", "it"),
    ("Olá, eu estou muito feliz com você.", "pt"),
    ("नमस्ते, आप कैसे हैं?", "hi"),
    ("Hi.", None),                                  # too short to tell
])
def test_guess_language(text, language):
    from emovc.tts.language import guess_language
    assert guess_language(text) == language
