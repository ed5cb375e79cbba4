"""asr.windows: speech windows from real audio, whole for short clips, bounded for long input."""
import numpy as np
import pytest
import soundfile as sf

from emovc.core import audio as core_audio
from emovc.asr.windows import MAX_WINDOW_S, speech_windows
from emovc.core.audio import Source
from emovc.core.audio import load_audio, resample


@pytest.fixture(scope="module")
def long_speech(shared_data):
    """~75 s: 16 RAVDESS sentences from four actors with 1-2.5 s pauses; and each sentence's span (s)."""
    paths = sorted((shared_data / "ravdess").glob("Actor_0[5-8]/03-01-0[4-5]-01-*.flac"))[:16]
    pauses = np.random.default_rng(1).uniform(1.0, 2.5, len(paths))
    parts, spans, t = [], [], 0.0
    for path, pause in zip(paths, pauses):
        wav = load_audio(path, sr=16000)[0]
        parts += [wav, np.zeros(int(pause * 16000), np.float32)]
        spans.append((t, t + len(wav) / 16000))
        t += (len(wav) + len(parts[-1])) / 16000
    return np.concatenate(parts), spans


def test_short_clip_is_one_whole_window(ravdess_clip):
    source = Source(ravdess_clip)
    windows = list(speech_windows(source))
    assert len(windows) == 1 and windows[0].start == 0.0
    assert len(windows[0].audio) == round(source.duration * 16000)


def test_silence_has_no_windows():
    assert list(speech_windows(Source(np.zeros(16000 * 40, np.float32)))) == []


def test_long_input_gives_bounded_ordered_windows_streamed_or_not(long_speech, tmp_path, monkeypatch):
    wav, sentences = long_speech
    monkeypatch.setattr(core_audio, "BLOCK_S", 20.0)          # several blocks: array slices, file stream
    path = tmp_path / "long48k.wav"
    sf.write(path, resample(wav, 16000, 48000), 48000)
    for source in (Source(wav), Source(path)):
        windows = list(speech_windows(source))
        assert abs(source.duration - len(wav) / 16000) < 0.01
        assert len(windows) >= 3 and all(len(w.audio) <= MAX_WINDOW_S * 16000 for w in windows)
        spans = [(w.start, w.start + len(w.audio) / 16000) for w in windows]
        assert all(end <= next_start + 0.01 for (_, end), (next_start, _) in zip(spans, spans[1:]))
        for start, end in sentences:                             # every sentence's middle is in a window
            assert any(a <= (start + end) / 2 <= b for a, b in spans), (start, end, spans)
        assert sum(b - a for a, b in spans) < 0.95 * source.duration   # most pauses dropped
