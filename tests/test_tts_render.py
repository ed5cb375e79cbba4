"""Emotion renderer: profiles load and validate; intensity mapping; on a real recording the
rendering moves F0 and duration the way the profile says, at any sample rate."""
import numpy as np
import pytest

from emovc.core.audio import load_audio, resample
from emovc.core.errors import ConfigError, UserError
from emovc.core.labels import EMOTIONS
from emovc.tts import parse_intensity, render_emotion
from emovc.tts.profiles import PROFILES, Prosody, load_profiles, profile
from emovc.tts.render import measure


@pytest.fixture(scope="module")
def neutral_clip(shared_data):
    """RAVDESS actor 2 (female), neutral, 'Kids are talking by the door'."""
    return load_audio(shared_data / "ravdess" / "Actor_02" / "03-01-01-01-01-01-02.flac")


def test_profiles_cover_every_emotion_and_neutral_is_identity():
    table = load_profiles()
    assert set(table) == set(EMOTIONS)
    assert profile("neutral", "strong") == Prosody()
    assert profile("angry", 0) == Prosody()


def test_profile_table_is_validated(tmp_path):
    broken = tmp_path / "profiles.yaml"
    broken.write_text(PROFILES.read_text(encoding="utf-8").replace("  sad:", "  sadness:"))
    with pytest.raises(ConfigError):
        load_profiles(broken)
    broken.write_text("source: x\nemotions:\n  neutral:\n    normal: {pitch: 99}\n")
    with pytest.raises(ConfigError, match="no profile for|implausible"):
        load_profiles(broken)


@pytest.mark.parametrize("given, value", [("normal", 0.5), ("STRONG", 1.0), (0.25, 0.25), ("0.8", 0.8), (0, 0.0)])
def test_parse_intensity(given, value):
    assert parse_intensity(given) == value


@pytest.mark.parametrize("given", ["loud", 1.5, -0.1])
def test_bad_intensity_is_a_user_error(given):
    with pytest.raises(UserError, match="normal, strong or a number"):
        parse_intensity(given)


def test_intensity_interpolates_between_ravdess_levels():
    normal, strong, half = profile("sad", "normal"), profile("sad", "strong"), profile("sad", 0.75)
    assert min(normal.pitch, strong.pitch) <= half.pitch <= max(normal.pitch, strong.pitch)
    assert profile("sad", 0.25).pitch == pytest.approx(normal.pitch / 2)


@pytest.mark.parametrize("emotion", ["sad", "angry", "happy", "fearful"])
def test_rendering_moves_f0_and_duration_in_the_profiles_direction(neutral_clip, emotion):
    wav, sr = neutral_clip
    target = profile(emotion, "strong")
    before, after = measure(wav, sr), measure(render_emotion(wav, sr, emotion, "strong", renderer="profile"), sr)
    assert np.sign(after["f0_median"] - before["f0_median"]) == np.sign(target.pitch)
    assert after["f0_median"] - before["f0_median"] == pytest.approx(target.pitch, abs=1.0)
    assert np.sign(before["duration"] / after["duration"] - 1) == np.sign(target.rate - 1)
    assert np.sign(after["energy"] - before["energy"]) == np.sign(target.energy)


@pytest.mark.parametrize("emotion", ["angry", "disgust", "surprised"])
def test_rendering_lands_level_tilt_and_breathiness_on_the_profile(neutral_clip, emotion):
    wav, sr = neutral_clip
    target = profile(emotion, "strong")
    before, after = measure(wav, sr), measure(render_emotion(wav, sr, emotion, "strong", renderer="profile"), sr)
    assert after["energy"] - before["energy"] == pytest.approx(target.energy, abs=1.5)
    assert after["tilt"] - before["tilt"] == pytest.approx(target.tilt, abs=1.0)
    assert after["hnr"] - before["hnr"] == pytest.approx(target.hnr, abs=0.5)


def test_render_keeps_length_without_rate_change_at_any_sample_rate(neutral_clip):
    wav, sr = neutral_clip
    wav44 = resample(wav, sr, 44100)
    out = render_emotion(wav44, 44100, "SURPRISED", change_rate=False, renderer="profile")
    assert out.dtype == np.float32 and np.all(np.isfinite(out)) and np.abs(out).max() <= 1.0
    assert abs(len(out) - len(wav44)) < 0.01 * 44100
    assert measure(out, 44100)["f0_median"] > measure(wav44, 44100)["f0_median"]


def test_neutral_rendering_returns_the_input_unchanged(neutral_clip):
    wav, sr = neutral_clip
    assert np.array_equal(render_emotion(wav, sr, "neutral", "strong"), wav)


def test_unknown_emotion_lists_the_labels(neutral_clip):
    with pytest.raises(UserError, match="choose one of: neutral, calm"):
        render_emotion(*neutral_clip, emotion="bored")


def test_short_input_is_returned_and_bad_input_rejected():
    from emovc.core.errors import AudioError
    blip = np.full(800, 0.1, np.float32)
    assert np.array_equal(render_emotion(blip, 16000, "angry"), blip)
    with pytest.raises(AudioError, match="mono"):
        render_emotion(np.zeros((16000, 2), np.float32), 16000, "angry")
