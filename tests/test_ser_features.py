"""ser.features: every feature set on a real clip, validation, the cache, and batch skips."""
import numpy as np
import pytest
import soundfile as sf

from core.audio import load_audio
from core.errors import AudioError, UserError
from ser.features import FEATURES, build_feature_sets, check_speech, extract_files


@pytest.fixture(scope="module")
def wav(ravdess_clip):
    return load_audio(ravdess_clip, sr=16000)[0]


@pytest.mark.parametrize("name, dims", [("egemaps", 88), ("compare", 6373), ("is09_emotion", 384),
                                        ("is10_paraling", 1582), ("is13_compare", 6373),
                                        ("librosa", 250), ("whisper", 1024)])
def test_functionals(wav, name, dims):
    (fs,) = build_feature_sets([{"name": name}])
    x = fs.extract(wav)
    assert fs.kind == "functionals" and x.shape == (dims,) and np.all(np.isfinite(x)) and x.std() > 0


@pytest.mark.parametrize("name, feature_set", [("egemaps", "eGeMAPSv02"), ("compare", "ComParE_2016")])
def test_opensmile_sets_match_the_opensmile_package(wav, name, feature_set):
    """The pandas-free path through opensmile's binding gives what opensmile.Smile gives."""
    import opensmile
    (fs,) = build_feature_sets([{"name": name}])
    smile = opensmile.Smile(getattr(opensmile.FeatureSet, feature_set), opensmile.FeatureLevel.Functionals)
    assert np.array_equal(fs.extract(wav), smile.process_signal(wav, 16000).to_numpy(np.float32)[0])


@pytest.mark.parametrize("name, dims", [("librosa_frames", 85), ("logmel", 64)])
def test_frames_follow_the_clip_length(wav, name, dims):
    (fs,) = build_feature_sets([{"name": name}])
    long, short = fs.extract(wav), fs.extract(wav[: len(wav) // 2])
    assert long.shape[1] == dims and short.shape[1] == dims
    assert abs(long.shape[0] / short.shape[0] - 2) < 0.1


def test_whisper_pooling_and_window(wav):
    (real,) = build_feature_sets([{"name": "whisper", "params": {"pooling": ["mean"]}}])
    (padded,) = build_feature_sets([{"name": "whisper", "params": {"pooling": ["mean"], "window": "padded"}}])
    a, b = real.extract(wav), padded.extract(wav)
    assert a.shape == b.shape == (512,)
    assert 0.5 < np.corrcoef(a, b)[0, 1] < 0.9999          # same clip, different context


def test_feature_settings_are_validated():
    with pytest.raises(UserError, match=r"unknown key 'features\[0\]\.params\.n_mfc'"):
        build_feature_sets([{"name": "librosa", "params": {"n_mfc": 13}}])
    with pytest.raises(UserError, match="unknown feature set 'mfcc'"):
        build_feature_sets([{"name": "mfcc"}])
    with pytest.raises(UserError, match="pooling"):
        build_feature_sets([{"name": "whisper", "params": {"pooling": ["median"]}}])
    with pytest.raises(UserError, match="cannot fuse"):
        build_feature_sets([{"name": "logmel"}, {"name": "egemaps"}])
    assert "egemaps" in FEATURES and "whisper" in FEATURES


def test_short_and_silent_clips(wav):
    with pytest.raises(AudioError, match="only 0.20 s long"):
        check_speech(wav[:3200], "clip.wav")
    with pytest.raises(AudioError, match="clip.wav: is silent"):
        check_speech(np.zeros(16000, np.float32), "clip.wav")


def test_cache_reuse_settings_and_corruption(ravdess_clip, tmp_path):
    sets = build_feature_sets([{"name": "egemaps"}])
    (first,), _ = extract_files(sets, [ravdess_clip], cache_dir=tmp_path, workers=1, progress=False)
    (entry,) = list(tmp_path.rglob("*.npy"))
    np.save(entry, np.full_like(first, 7.0))                 # a cached value is used as it is
    (again,), _ = extract_files(sets, [ravdess_clip], cache_dir=tmp_path, workers=1, progress=False)
    assert np.all(again == 7.0)
    entry.write_bytes(b"not an npy file")                    # a corrupt entry is recomputed
    (fixed,), _ = extract_files(sets, [ravdess_clip], cache_dir=tmp_path, workers=1, progress=False)
    assert np.allclose(fixed, first)
    other = build_feature_sets([{"name": "librosa", "params": {"n_mfcc": 13}}])
    extract_files(other, [ravdess_clip], cache_dir=tmp_path, workers=1, progress=False)
    assert len({p.parent for p in tmp_path.rglob("*.npy")}) == 2    # a changed setting gets its own key


def test_bad_files_are_skipped_by_name(ravdess_clip, tmp_path):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    text = tmp_path / "notes.wav"
    text.write_text("not audio")
    short = tmp_path / "short.wav"
    sf.write(short, np.random.default_rng(0).normal(0, 0.1, 1600), 16000)
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(16000), 16000)
    truncated = tmp_path / "truncated.wav"
    sf.write(truncated, np.random.default_rng(0).normal(0, 0.1, 16000), 16000)
    truncated.write_bytes(truncated.read_bytes()[:8000])
    paths = [empty, ravdess_clip, text, short, silent, truncated]
    X, failures = extract_files(build_feature_sets([{"name": "egemaps"}]), paths, cache_dir=None,
                                workers=2, progress=False)
    assert [x is not None for x in X] == [False, True, False, False, False, False]
    assert len(failures) == 5
    for path, message in zip([empty, text, short, silent, truncated], failures):
        assert str(path) in message and "\n" not in message
