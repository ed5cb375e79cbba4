"""ser.augment on a real clip: each step keeps the rate and length, does what it says, is seeded."""
import numpy as np
import pytest

from emovc.core.audio import load_audio
from emovc.ser import augment as A
from emovc.ser.config import Augment


@pytest.fixture(scope="module")
def wav(ravdess_clip):
    return load_audio(ravdess_clip, sr=16000)[0]


def _snr(clean, noisy):
    return 10 * np.log10(np.mean(clean ** 2) / np.mean((noisy - clean) ** 2))


@pytest.mark.parametrize("colour", ["white", "pink", "brown"])
def test_noise_reaches_the_requested_snr(wav, colour):
    noisy = A.add_noise(wav, 10.0, np.random.default_rng(0), colour)
    assert noisy.shape == wav.shape and noisy.dtype == np.float32
    assert abs(_snr(wav, noisy) - 10.0) < 0.5


def test_reverberation_keeps_length_and_level_and_smears_in_time(wav):
    wet = A.reverberate(wav, 0.8, np.random.default_rng(0))
    assert wet.shape == wav.shape
    assert abs(np.sqrt(np.mean(wet ** 2)) / np.sqrt(np.mean(wav ** 2)) - 1) < 0.05
    # energy lingers after the speech ends: the last 0.2 s hold more of it than in the dry clip
    assert np.mean(wet[-3200:] ** 2) > np.mean(wav[-3200:] ** 2)
    ir = A.room_impulse(0.5, np.random.default_rng(0))
    assert len(ir) == 8000 and ir[0] == 1.0 and np.abs(ir[-800:]).max() < 0.01


@pytest.mark.parametrize("codec", list(A.CODECS))
def test_codecs_round_trip_at_low_bitrate(wav, codec):
    out = A.encode_decode(wav, codec, A.CODECS[codec][2][1])
    assert out.shape == wav.shape and np.all(np.isfinite(out))
    assert 0 < _snr(wav, out) < 40          # audibly lossy, but still the same signal


def test_gain_and_speed(wav):
    assert np.allclose(A.gain(wav, -6.0), wav * 10 ** (-6 / 20), atol=1e-6)
    assert np.abs(A.gain(wav, 20.0)).max() <= 1.0
    assert abs(len(A.speed(wav, 1.05)) - len(wav) / 1.05) <= 1


def test_augment_is_seeded(wav):
    spec = Augment(copies=1, speed_prob=1, reverb_prob=1, noise_prob=1, codec_prob=1)
    a = A.augment(wav, spec, np.random.default_rng(7))
    b = A.augment(wav, spec, np.random.default_rng(7))
    c = A.augment(wav, spec, np.random.default_rng(8))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert 0.9 < len(a) / len(wav) < 1.1
