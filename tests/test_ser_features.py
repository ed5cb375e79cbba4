"""ser.features: every feature set on a real clip, validation, the cache, and batch skips."""
import numpy as np
import pytest
import soundfile as sf

from emovc.core.audio import load_audio
from emovc.core.errors import AudioError, UserError
from emovc.ser.features import FEATURES, build_feature_sets, check_speech, extract_files


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


# --- Whisper middle layers -----------------------------------------------------------------

def _ct2_tensors(path) -> dict[str, np.ndarray]:
    """Every tensor of a CTranslate2 model.bin, read independently of core.weights' writer."""
    import struct
    data, at, out = path.read_bytes(), 0, {}
    dtypes = [np.float32, np.int8, np.int16, np.int32, np.float16]

    def take(fmt):
        nonlocal at
        (value,) = struct.unpack_from(fmt, data, at)
        at += struct.calcsize(fmt)
        return value

    def string():
        nonlocal at
        size = take("H")
        at += size
        return data[at - size:at - 1].decode()

    take("I"), string(), take("I")
    for _ in range(take("I")):
        name, shape = string(), [take("I") for _ in range(take("B"))]
        dtype, size = dtypes[take("B")], take("I")
        out[name] = np.frombuffer(data, dtype, size // np.dtype(dtype).itemsize, at).reshape(shape).astype(np.float32)
        at += size
    return out


def _reference_encoder(t: dict, mel: np.ndarray, layers: int) -> np.ndarray:
    """Whisper's encoder in numpy (conv stem, pre-norm attention blocks, final layer norm),
    stopped after `layers` blocks."""
    from scipy.special import erf

    def gelu(x):
        return 0.5 * x * (1 + erf(x / np.sqrt(2)))

    def conv(x, w, b, stride):
        x = np.pad(x, ((0, 0), (1, 1)))
        cols = np.stack([x[:, k:k + x.shape[1] - 2:stride] for k in range(3)], axis=-1)   # (in, T, 3)
        return np.einsum("oik,itk->ot", w, cols) + b[:, None]

    def norm(x, name):
        mu, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + 1e-5) * t[name + "/gamma"] + t[name + "/beta"]

    x = gelu(conv(mel, t["encoder/conv1/weight"], t["encoder/conv1/bias"], 1))
    x = gelu(conv(x, t["encoder/conv2/weight"], t["encoder/conv2/bias"], 2)).T
    x = x + t["encoder/position_encodings/encodings"][: len(x)]
    heads = int(t["encoder/num_heads"])
    for i in range(layers):
        p = f"encoder/layer_{i}/"
        h = norm(x, p + "self_attention/layer_norm")
        q, k, v = np.split(h @ t[p + "self_attention/linear_0/weight"].T + t[p + "self_attention/linear_0/bias"], 3, -1)
        q, k, v = (a.reshape(len(x), heads, -1).transpose(1, 0, 2) for a in (q, k, v))
        scores = q @ k.transpose(0, 2, 1) / np.sqrt(q.shape[-1])
        att = np.exp(scores - scores.max(-1, keepdims=True))
        ctx = (att / att.sum(-1, keepdims=True) @ v).transpose(1, 0, 2).reshape(len(x), -1)
        x = x + ctx @ t[p + "self_attention/linear_1/weight"].T + t[p + "self_attention/linear_1/bias"]
        h = norm(x, p + "ffn/layer_norm")
        x = x + gelu(h @ t[p + "ffn/linear_0/weight"].T + t[p + "ffn/linear_0/bias"]) @ \
            t[p + "ffn/linear_1/weight"].T + t[p + "ffn/linear_1/bias"]
    return norm(x, "encoder/layer_norm")


def test_middle_layer_equals_a_reference_encoder(wav):
    """The truncated model's encoder output is layer k of Whisper tiny.en, computed here in numpy
    from the same weights; the int8 features the recogniser uses stay close to it."""
    import ctranslate2
    from emovc.core.weights import model_folder, truncated_folder, whisper_encoder
    (fs,) = build_feature_sets([{"name": "whisper", "params": {"model": "tiny.en", "layer": 2}}])
    _, fe = whisper_encoder("tiny.en", 2)
    mel = fe(wav, padding=0)
    exact = ctranslate2.models.Whisper(str(truncated_folder("tiny.en", 2)), device="cpu", compute_type="float32")
    got = np.asarray(exact.encode(ctranslate2.StorageView.from_array(np.ascontiguousarray(mel[None])), to_cpu=True))[0]
    want = _reference_encoder(_ct2_tensors(model_folder("tiny.en") / "model.bin"), mel, 2)
    assert got.shape == want.shape == (mel.shape[1] // 2, 384)
    assert np.abs(got - want).max() < 2e-2 * np.abs(want).max()
    other = _reference_encoder(_ct2_tensors(model_folder("tiny.en") / "model.bin"), mel, 3)
    assert np.abs(got - other).max() > 10 * np.abs(got - want).max()       # a different layer differs
    real = int(np.ceil(len(wav) / fe.hop_length / 2))
    pooled = np.concatenate([want[:real].mean(0), want[:real].std(0)])
    assert np.corrcoef(fs.extract(wav), pooled)[0, 1] > 0.99


def test_layer_is_validated_and_kept_out_of_old_specs():
    with pytest.raises(UserError, match="layer 0"):
        build_feature_sets([{"name": "whisper", "params": {"layer": 0}}])
    with pytest.raises(UserError, match="from 1 to 4"):
        build_feature_sets([{"name": "whisper", "params": {"model": "tiny.en", "layer": 9}}])[0].extract(np.ones(16000))
    (plain,) = build_feature_sets([{"name": "whisper"}])
    assert "layer" not in plain.spec()["params"]           # checkpoints saved before layers load as before
