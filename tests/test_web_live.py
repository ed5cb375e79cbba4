"""emovc/web/live.py on real speech with the real models (SER checkpoint, Whisper): the emotion of
the last window, a transcript that grows and is fixed in pieces, bounded memory, silence; and
under load: "transcribing", audio skipped when too far behind, a switch to a faster model."""
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from emovc.asr import load_asr
from emovc.asr.evaluate import wer
from emovc.core.audio import load_audio
from emovc.core.config import load_config
from emovc.core.labels import EMOTIONS
from emovc.analysis import Analyzer
from emovc.convert import DetectConfig
from emovc.web.live import SKIPPED, LiveAsr, LiveStream, _quiet_cut

SR = 16000
WORDS = "We waited all afternoon, but nobody came to the meeting."


@pytest.fixture(scope="module")
def models():
    analyzer = Analyzer(load_config("configs/detect.yaml", DetectConfig))
    analyzer.load(asr=False)
    with ThreadPoolExecutor(max_workers=1) as pool:
        yield analyzer, LiveAsr(_whisper, "base"), pool


@pytest.fixture(scope="module")
def speech():
    """The bundled sample three times with half-second pauses (11.2 s)."""
    wav, _ = load_audio("samples/sample.wav", sr=SR)
    pause = np.zeros(SR // 2, np.float32)
    return np.concatenate([wav, pause, wav, pause, wav])


def _whisper(model: str):
    return load_asr("whisper", model, "en", threads=1, beam_size=1)


def _stream(models, **kw):
    analyzer, asr, pool = models
    return LiveStream(analyzer, threading.Lock(), asr, pool, **kw)


def test_emotion_and_a_growing_transcript(models, speech):
    stream = _stream(models, emotion_window_s=3.0, segment_s=6.0)
    lengths = []
    chunk = 2 * SR                      # the page sends 1 s; 2 s halves the test's transcriptions
    for start in range(0, len(speech), chunk):
        state = stream.feed(speech[start:start + chunk])
        stream.job.result()             # let each transcription finish, to make the test exact
        lengths.append(len(stream.state()["transcript"].split()))
        assert len(stream.recent) <= 3 * SR
        assert len(stream.pending) <= 6 * SR + chunk    # bounded: at most a segment and a chunk
        emotion = state["emotion"]
        assert emotion["top"] in EMOTIONS
        assert sum(emotion["probabilities"].values()) == pytest.approx(1.0, abs=1e-3)
    assert lengths[-1] >= 10 > lengths[0]
    assert stream.fixed, "the first pieces were fixed once the unfixed audio passed segment_s"
    final = stream.finish()
    assert wer(" ".join([WORDS] * 3), final["transcript"]) <= 0.2
    assert final["heard_s"] == pytest.approx(len(speech) / SR, abs=0.01)
    assert len(stream.pending) == 0


def test_silence_shows_no_emotion(models):
    stream = _stream(models)
    state = stream.feed(np.zeros(2 * SR, np.float32))
    assert state["emotion"] is None
    assert stream.finish()["transcript"] == ""


def test_quiet_cut_falls_in_a_pause(speech):
    segment = 6 * SR
    assert _quiet_cut(speech[:segment - 1], segment) == 0
    wav, _ = load_audio("samples/sample.wav", sr=SR)
    second_pause = 2 * len(wav) + SR // 2                   # the last third of 8 s holds the second pause
    assert second_pause <= _quiet_cut(speech[:8 * SR], segment) < second_pause + SR // 2


def test_the_state_says_while_a_transcription_runs(models, speech):
    _, asr, pool = models
    busy = threading.Event()
    pool.submit(busy.wait)                      # the ASR thread is taken: the stream's job waits
    stream = _stream(models)
    state = stream.feed(speech[:2 * SR])
    assert state["transcribing"] and state["emotion"]["top"] in EMOTIONS   # the emotion did not wait
    assert state["behind_s"] == 2.0 and state["transcript"] == ""
    busy.set()
    stream.job.result()
    state = stream.state()
    assert not state["transcribing"] and state["transcript"] and state["asr_model"] == "base"


def test_stop_gives_up_the_words_the_asr_thread_cannot_reach(models, speech):
    _, _, pool = models
    busy = threading.Event()
    pool.submit(busy.wait)                      # the ASR thread stays taken: no transcription can run
    try:
        stream = _stream(models)
        stream.feed(speech[:4 * SR])
        final = stream.finish(wait_s=0.1)
    finally:
        busy.set()
    assert final["transcript"] == SKIPPED and final["skipped_s"] == 4.0 and not final["transcribing"]


def test_falling_behind_skips_the_oldest_audio_and_says_so(models, speech):
    stream = _stream(models, segment_s=3.0, max_behind_s=4.0)
    stream.feed(speech)                         # 11.2 s arrive before any transcription ran
    stream.job.result()
    state = stream.state()
    assert state["skipped_s"] == pytest.approx(len(speech) / SR - 4.0, abs=0.1)
    assert state["transcript"].startswith(SKIPPED + " ")
    final = stream.finish()
    words = final["transcript"].split()
    assert words.count(SKIPPED) == 1 and 3 <= len(words) - 1 <= 12     # only the last 4 s were transcribed
    assert "meeting" in final["transcript"]


def test_a_transcription_slower_than_real_time_switches_to_the_faster_model(models, speech):
    analyzer, _, pool = models
    asr = LiveAsr(_whisper, "base", fallback="tiny.en", max_rtf=0.001)   # no machine is this fast
    stream = LiveStream(analyzer, threading.Lock(), asr, pool)
    stream.feed(speech[:3 * SR])
    stream.job.result()
    assert asr.rtf > 0.001 and stream.state()["asr_model"] == "tiny.en" and asr.fallback is None
    final = stream.finish()
    assert wer(WORDS, final["transcript"]) <= 0.2         # tiny.en transcribed everything heard
