"""detect.py end to end on real speech: the report, keep-voice, self-check, batch, hard inputs.

Everything runs the real stages (SER checkpoint, Whisper, Piper/Kokoro, the emotion renderer);
nothing is mocked. Model loads are shared through the module-scoped `converter`.
"""
import json

import numpy as np
import pytest
import soundfile as sf

from emovc.commands import detect
from emovc.asr.evaluate import wer
from emovc.core.audio import load_audio, resample
from emovc.core.config import load_config
from emovc.core.errors import UserError
from emovc.core.labels import EMOTIONS
from emovc.convert import Converter, DetectConfig, Request
from emovc.ser.recognizer import UNCERTAIN

WORDS = "Kids are talking by the door"


@pytest.fixture(scope="module")
def converter():
    return Converter(load_config("configs/detect.yaml", DetectConfig))


@pytest.fixture(scope="module")
def neutral_clip(shared_data):
    """Actor 1, neutral, 'Kids are talking by the door'."""
    return shared_data / "ravdess" / "Actor_01" / "03-01-01-01-01-01-01.flac"


def _published(folder):
    return sorted(p.name for p in folder.iterdir())


def test_report_and_output_on_a_real_recording(converter, ravdess_clip, tmp_path):
    report = converter.convert(ravdess_clip, Request("happy", "youngwoman"), tmp_path)

    assert _published(tmp_path) == ["1.json", "1.wav"]
    assert json.loads((tmp_path / "1.json").read_text()) == report
    assert report["output"] == str(tmp_path / "1.wav")
    assert report["input"] == {"path": str(ravdess_clip), "duration_s": pytest.approx(4.1, abs=0.05),
                               "sample_rate": 16000}
    detected = report["detected_emotion"]
    assert detected["label"] in EMOTIONS
    assert sum(detected["probabilities"].values()) == pytest.approx(1.0, abs=1e-3)
    assert wer(WORDS, report["transcript"]) <= 0.2
    assert report["language"] == "en" and report["spoken_text"] == report["transcript"]
    assert report["target_emotion"] == "happy" and report["speaker"] == "youngwoman"
    assert report["models"]["asr"]["model"] == "base"
    assert {"read", "load_models", "ser", "asr", "tts", "check", "total"} <= set(report["timings_s"])

    wav, sr = sf.read(tmp_path / "1.wav", dtype="float32")
    assert 1.0 < len(wav) / sr < 6.0 and np.abs(wav).max() > 0.05
    check = report["check"]
    assert check["predicted_label"] in (*EMOTIONS, UNCERTAIN) and 0.0 <= check["target_probability"] <= 1.0
    assert check["recognised"] == (check["predicted_label"] == "happy")
    assert check["wer"] == pytest.approx(wer(report["spoken_text"], check["transcript"]), abs=1e-3)
    assert check["wer"] <= 0.2          # the synthesised words are intelligible to the project's ASR


def _f0_median(wav, sr):
    import parselmouth
    f0 = parselmouth.Sound(wav.astype(np.float64), sr).to_pitch(pitch_floor=60, pitch_ceiling=600)
    values = f0.selected_array["frequency"]
    return float(np.median(values[values > 0]))


@pytest.mark.parametrize("emotion", ["sad", "happy"])
def test_keep_voice_moves_pitch_and_duration_as_the_profile_says_and_keeps_the_words(
        converter, neutral_clip, tmp_path, emotion, monkeypatch):
    from emovc.tts.profiles import profile
    monkeypatch.setattr(converter.config.tts, "keep_voice_renderer", "profile")
    report = converter.convert(neutral_clip, Request(emotion, "SmallGirl", keep_voice=True), tmp_path)
    before, sr = load_audio(neutral_clip)
    after, out_sr = sf.read(report["output"], dtype="float32")
    assert out_sr == sr and report["mode"] == "keep-voice"
    assert any("speaker 'smallgirl' is not applied" in note for note in report["notes"])

    wanted = profile(emotion, "normal")
    pitch_shift = 12 * np.log2(_f0_median(after, sr) / _f0_median(before, sr))
    assert np.sign(pitch_shift) == np.sign(wanted.pitch) and abs(pitch_shift) > abs(wanted.pitch) / 3
    stretch = len(after) / len(before)
    assert np.sign(stretch - 1) == np.sign(1 / wanted.rate - 1)
    assert report["check"]["wer"] <= 0.2     # ASR of the output against the input's transcript


def test_keep_voice_uses_the_exemplar_bank_by_default_and_keeps_the_words(converter, neutral_clip, tmp_path):
    report = converter.convert(neutral_clip, Request("happy", "youngwoman", keep_voice=True), tmp_path)
    before, sr = load_audio(neutral_clip)
    after, _ = sf.read(report["output"], dtype="float32")
    assert report["models"]["renderer"] == "exemplar"
    assert _f0_median(after, sr) > _f0_median(before, sr) * 2 ** (1 / 12)      # happy: up by more than 1 st
    assert 0.8 < len(after) / len(before) < 1.4
    assert report["check"]["wer"] <= 0.2


def test_same_emotion_and_given_text(converter, ravdess_clip, tmp_path):
    text = "The weather is nice today."
    report = converter.convert(ravdess_clip, Request("same", "middlemale", text=text), tmp_path)
    assert report["target_emotion"] == report["detected_emotion"]["label"]
    assert report["transcript"] is None and report["spoken_text"] == text     # ASR skipped
    assert report["check"]["wer"] <= 0.2


def test_same_on_an_uncertain_input_speaks_neutral_and_says_so(converter, ravdess_clip, tmp_path, monkeypatch):
    converter.load(asr=False)
    monkeypatch.setattr(converter.analyzer.recognizer, "uncertain_below", 0.999)
    report = converter.convert(ravdess_clip, Request("same", "middlemale", text="Fine.", check=False), tmp_path)
    assert report["detected_emotion"]["label"] == "uncertain" and report["target_emotion"] == "neutral"
    assert any("uncertain" in n and "fell back to neutral" in n for n in report["notes"])


def test_silence_is_refused_with_or_without_keep_voice(converter, tmp_path):
    silence = tmp_path / "silence.wav"
    sf.write(silence, np.zeros(32000, np.float32), 16000)
    out = tmp_path / "out"
    with pytest.raises(UserError, match="no speech found.*--text.*--keep-voice"):
        converter.convert(silence, Request("happy", "youngman"), out)
    with pytest.raises(UserError, match="no speech found.*no voice to keep.*--text"):
        converter.convert(silence, Request("happy", "youngman", keep_voice=True), out)
    assert not out.exists() or _published(out) == []


def _write_variants(folder, clip):
    """The clip as every input kind the issue lists, plus the bad files of a batch."""
    wav, sr = load_audio(clip)
    folder.mkdir()
    for rate in (8000, 44100, 48000):
        sf.write(folder / f"rate_{rate}.wav", resample(wav, sr, rate), rate)
    sf.write(folder / "stereo.wav", np.stack([wav, 0.5 * wav], axis=1), sr)
    sf.write(folder / "pcm24.wav", wav, sr, subtype="PCM_24")
    sf.write(folder / "float.wav", wav, sr, subtype="FLOAT")
    sf.write(folder / "clip.flac", wav, sr)
    sf.write(folder / "clip.ogg", wav, sr)
    sf.write(folder / "clip.mp3", wav, sr)
    good = sorted(p.name for p in folder.iterdir())
    (folder / "empty.wav").write_bytes(b"")
    (folder / "random.wav").write_bytes(np.random.default_rng(0).bytes(20000))
    whole = (folder / "pcm24.wav").read_bytes()
    (folder / "truncated.wav").write_bytes(whole[: len(whole) // 2])
    sf.write(folder / "short.wav", wav[: sr // 10], sr)
    return good, ["empty.wav", "random.wav", "truncated.wav", "short.wav"]


def test_batch_over_every_format_skips_and_names_the_bad_files(ravdess_clip, tmp_path, capsys):
    good, bad = _write_variants(tmp_path / "in", ravdess_clip)
    out = tmp_path / "out"
    code = detect.main([str(tmp_path / "in"), "ANGRY", "youngman", "--output-dir", str(out),
                        "--no-check", "--json"])
    captured = capsys.readouterr()
    reports = json.loads(captured.out)

    assert code == 1
    assert sorted(r["input"]["path"].rsplit("/", 1)[1] for r in reports) == good
    assert _published(out) == sorted(f"{n}.{ext}" for n in range(1, len(good) + 1) for ext in ("json", "wav"))
    rates = {r["input"]["path"].rsplit("/", 1)[1]: r["input"]["sample_rate"] for r in reports}
    assert (rates["rate_8000.wav"], rates["rate_44100.wav"], rates["rate_48000.wav"]) == (8000, 44100, 48000)
    for r in reports:
        assert wer(WORDS, r["transcript"]) <= 0.25, r["input"]["path"]
    for name, problem in zip(bad, ["empty", "not a readable audio file", "truncated", "0.10 s long"]):
        assert any(name in line and problem in line for line in captured.err.splitlines()), name
    assert "Traceback" not in captured.err


def test_manifest_csv_paths_are_relative_to_it(ravdess_clip, tmp_path, capsys):
    (tmp_path / "audio").mkdir()
    sf.write(tmp_path / "audio" / "a.wav", *load_audio(ravdess_clip))
    manifest = tmp_path / "list.csv"
    manifest.write_text("path,note\naudio/a.wav,fine\naudio/missing.wav,gone\n")
    out = tmp_path / "out"
    code = detect.main([str(manifest), "calm", "YOUNGWOMAN", "--text", "Hello there.", "--no-check",
                        "--quiet", "--output-dir", str(out)])
    captured = capsys.readouterr()
    assert code == 1
    assert captured.out.split() == [str(out / "1.wav")]
    assert _published(out) == ["1.json", "1.wav"]


@pytest.mark.parametrize("seconds", [30.0, 30.001, 61.0, 95.0])
def test_long_input_windows_cover_everything_within_the_limit(seconds):
    from emovc.core.audio import split_at_pauses
    wav = np.random.default_rng(0).standard_normal(int(seconds * 16000)).astype(np.float32)
    pieces = split_at_pauses(wav, 16000, 30.0)
    assert np.array_equal(np.concatenate(pieces), wav)
    assert all(3 * 16000 <= len(p) <= 30 * 16000 for p in pieces)


def test_detected_language_is_spoken_by_the_voice_in_that_language(converter, tmp_path):
    """A Spanish clip (made by the project's TTS: youngwoman's Spanish speaker) comes back in Spanish."""
    from emovc.tts import synthesize
    wav, sr = synthesize("Mañana vamos a la playa con mis amigos.", voice="youngwoman", language="es")
    clip = tmp_path / "es.wav"
    sf.write(clip, wav, sr)
    report = converter.convert(clip, Request("happy", "youngman", check=False), tmp_path / "out")
    assert report["language"] == "es" and "playa" in report["transcript"].lower()
    assert report["spoken_text"] == report["transcript"]
    out, out_sr = sf.read(report["output"], dtype="float32")
    assert len(out) / out_sr > 1.0 and np.abs(out).max() > 0.05


def test_a_language_without_a_voice_stops_with_the_languages_and_how_to_force_english(
        converter, shared_data, tmp_path):
    urdu = shared_data / "urdu" / "Angry" / "SM1_F10_A010.flac"       # Urdu speech, detected as 'ur'
    with pytest.raises(UserError, match=r"no voice for language 'ur'; this voice speaks en, es, fr, hi, it, pt;"
                                        r".*--set asr.language=en"):
        converter.convert(urdu, Request("happy", "youngwoman"), tmp_path)
    assert not list(tmp_path.iterdir())                                # nothing partial published


def test_the_summary_names_the_most_likely_emotion_behind_uncertain():
    from emovc.commands.detect import _summary
    probabilities = {"sad": 0.45, "angry": 0.22, "happy": 0.11}
    report = {"detected_emotion": {"label": UNCERTAIN, "probabilities": probabilities}, "transcript": None,
              "mode": "synthesis", "speaker": "youngwoman", "target_emotion": "happy", "notes": [],
              "output": "out/1.wav",
              "check": {"predicted_label": UNCERTAIN, "probabilities": probabilities, "target_probability": 0.11,
                        "wer": 0.0}}
    text = _summary(report)
    assert "detected emotion: uncertain (sad 45%, angry 22%, happy 11%)" in text
    assert "self-check: heard as uncertain (sad 45%, angry 22%, happy 11%), target happy 11%, WER 0%" in text
    report["check"] = dict(report["check"], predicted_label="sad")
    assert "self-check: heard as sad (sad 45%, angry 22%, happy 11%), target happy 11%, WER 0%" in _summary(report)
    report["text_emotion"] = {"label": "sad", "probabilities": probabilities}
    assert "text emotion: sad (sad 45%, angry 22%, happy 11%)" in _summary(report)


def test_a_configs_voices_belong_to_its_converter_only(converter, ravdess_clip, tmp_path):
    table = tmp_path / "voices.yaml"
    table.write_text("voices:\n  Narrator:\n    engine: kokoro\n    speaker: bm_lewis\n    rate: 0.9\n")
    own = Converter(load_config("configs/detect.yaml", DetectConfig, [f"tts.voices={table}"]),
                    analyzer=converter.analyzer)
    report = own.convert(ravdess_clip, Request("calm", "narrator", text="Kids are talking by the door.",
                                               check=False), tmp_path)
    assert report["models"]["tts"] == {"voice": "narrator", "engine": "kokoro", "speaker": "bm_lewis", "model": None}
    with pytest.raises(UserError, match="unknown speaker 'narrator'; choose one of: middlemale"):
        converter.check(Request("calm", "narrator"))           # another converter never learnt it
