"""ser.adapt: the session adapter learns one speaker's baseline, forgets it on reset, keeps a
fixed memory, changes nothing without data; live mode gives every Start a fresh one."""
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from emovc.core.errors import UserError
from emovc.ser.adapt import METHODS, SessionAdapter
from emovc.web.live import LiveStream

LABELS = ["neutral", "calm", "happy", "sad"]
DIMS = 6
MEAN, SCALE = np.arange(DIMS, dtype=float), np.full(DIMS, 2.0)
CLASS_MEANS = np.eye(len(LABELS), DIMS) * 3          # standardised: each emotion along its own axis


def adapter(method: str, prior: float = 5.0, memory: int = 50) -> SessionAdapter:
    return SessionAdapter(MEAN, SCALE, LABELS, method, prior, CLASS_MEANS, memory)


def stream(n: int, offset: np.ndarray, emotion: int | None = None, seed: int = 0):
    """n windows of one speaker (standardised offset `offset`), all of `emotion` or of every emotion in turn."""
    rng = np.random.default_rng(seed)
    for i in range(n):
        c = emotion if emotion is not None else i % len(LABELS)
        z = offset + CLASS_MEANS[c] + rng.normal(0, 0.3, DIMS)
        p = np.full(len(LABELS), 0.1)
        p[c] = 0.7
        yield z * SCALE + MEAN, p / p.sum()


def feed(a: SessionAdapter, windows) -> None:
    for x, p in windows:
        a.learn(x, p)


@pytest.mark.parametrize("method", METHODS)
def test_without_data_nothing_changes(method):
    a = adapter(method)
    x, p = next(stream(1, np.ones(DIMS)))
    assert np.allclose(a.features(x), x, atol=1e-5)
    assert np.array_equal(a.probabilities(p), p)
    assert a.learning == {"heard": 0, "needed": 5, "learnt": False}


@pytest.mark.parametrize("method", METHODS)
def test_reset_forgets_the_session(method):
    a = adapter(method)
    feed(a, stream(40, np.full(DIMS, 2.0), emotion=3))
    x, p = next(stream(1, np.zeros(DIMS), seed=1))
    assert a.learning["learnt"]
    assert not (np.allclose(a.features(x), x, atol=1e-3) and np.allclose(a.probabilities(p), p))
    a.reset()
    assert np.allclose(a.features(x), x, atol=1e-5) and np.array_equal(a.probabilities(p), p)
    assert a.learning["heard"] == 0


@pytest.mark.parametrize("method", METHODS)
def test_memory_is_bounded(method):
    def size(n):
        a = adapter(method)
        feed(a, stream(n, np.ones(DIMS)))
        return sum(v.nbytes for v in vars(a).values() if isinstance(v, np.ndarray))
    assert size(10) == size(2000)


def test_mean_converges_to_the_stream_mean():
    """The offset learnt is the stream's mean, shrunk by n / (n + prior): it tends to it."""
    for n in (20, 2000):
        a = adapter("mean")
        windows = list(stream(n, np.array([1.5, -2, 0.5, 0, 3, -1])))
        feed(a, windows)
        z = (np.stack([x for x, _ in windows]) - MEAN) / SCALE
        adapted = (np.stack([a.features(x) for x, _ in windows]) - MEAN) / SCALE
        assert np.allclose(adapted.mean(0), z.mean(0) * 5 / (5 + n), atol=1e-4)


def test_standardise_converges_to_the_stream_statistics():
    a = adapter("standardise")
    windows = list(stream(5000, np.full(DIMS, 1.0)))
    feed(a, windows)
    z = (np.stack([a.features(x) for x, _ in windows]) - MEAN) / SCALE
    assert np.abs(z.mean(0)).max() < 0.02 and np.abs(z.std(0) - 1).max() < 0.02


def test_anchored_removes_the_voice_and_keeps_the_emotion_heard():
    """A one-emotion session: 'mean' takes the emotion for the voice and erases it; 'anchored'
    removes only what the emotion the model hears (its top one; 'anchored_soft': its posterior's
    mix of means) does not explain."""
    windows = list(stream(300, np.array([1.0, -1, 2, 0, 0.5, 1]), emotion=3))
    heard = windows[0][1] @ CLASS_MEANS
    for method, expected in (("anchored", CLASS_MEANS[3]), ("anchored_soft", heard), ("mean", np.zeros(DIMS))):
        a = adapter(method)
        feed(a, windows)
        z = (np.stack([a.features(x) for x, _ in windows]) - MEAN) / SCALE
        assert np.allclose(z.mean(0), expected, atol=0.1), method
    assert heard[3] > 2


def test_prior_sharpens_a_one_emotion_session_and_leaves_a_mixed_one():
    one, mixed = adapter("prior"), adapter("prior")
    feed(one, stream(100, np.zeros(DIMS), emotion=2))
    feed(mixed, stream(100, np.zeros(DIMS)))
    p = np.array([0.3, 0.2, 0.3, 0.2])
    assert one.probabilities(p)[2] > 0.6
    assert np.allclose(mixed.probabilities(p), p, atol=0.02)


def test_bad_settings():
    with pytest.raises(UserError, match="unknown session adaptation"):
        SessionAdapter(MEAN, SCALE, LABELS, "magic")
    with pytest.raises(UserError, match="needs the training emotions"):
        SessionAdapter(MEAN, SCALE, LABELS, "anchored")
    with pytest.raises(UserError, match="prior > 0"):
        SessionAdapter(MEAN, SCALE, LABELS, "mean", prior=0)


class FakeAnalyzer:
    """`emotion` as the Analyzer calls the recogniser: one window, classified by the adapter's session."""

    def session_adapter(self):
        return adapter("mean")

    def emotion(self, audio, adapter=None):
        x = np.full(DIMS, float(np.abs(audio).mean()))
        adapter.learn(x, np.full(len(LABELS), 0.25))
        return None


class SilentAsr:
    name = "none"

    def text(self, wav):
        return ""


def test_live_stream_learns_and_every_start_begins_anew():
    with ThreadPoolExecutor(max_workers=1) as pool:
        first = LiveStream(FakeAnalyzer(), threading.Lock(), SilentAsr(), pool)
        for _ in range(3):
            state = first.feed(np.full(16000, 0.1, np.float32))
        assert state["adaptation"] == {"heard": 3, "needed": 5, "learnt": False}
        again = LiveStream(FakeAnalyzer(), threading.Lock(), SilentAsr(), pool)       # a new Start
        assert again.state()["adaptation"]["heard"] == 0 and again.adapter is not first.adapter


def test_recognizer_classifies_a_session_in_order():
    """The shipped model: the first window is classified as alone; the adapter learns from every
    window; a per-speaker model takes none."""
    from emovc.ser import load_recognizer
    rec = load_recognizer("configs/multicorpus.yaml")
    mean, scale = rec.model.input_stats()
    rng = np.random.default_rng(0)
    shift = rng.normal(0, 1, len(mean)) * scale                  # one unusual voice
    windows = [(mean + shift + rng.normal(0, 1, len(mean)) * scale).astype(np.float32) for _ in range(30)]
    alone = rec.classify(windows)
    a = rec.session_adapter()
    adapted = rec.classify(windows, adapter=a)
    assert adapted[0].probabilities == pytest.approx(alone[0].probabilities, abs=1e-6)
    assert a.learning == {"heard": 30, "needed": 5, "learnt": True}
    assert any(p.probabilities != q.probabilities for p, q in zip(adapted[5:], alone[5:]))
    with pytest.raises(UserError, match="takes no session adapter"):
        load_recognizer("configs/speaker_norm.yaml").session_adapter()
    with pytest.raises(UserError, match="python -m emovc.ser.build_adapt --config"):
        load_recognizer("configs/example.yaml").session_adapter()
