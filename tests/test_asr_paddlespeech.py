"""asr.paddlespeech: the subprocess wrapper. Paddle is never installed here (its pins clash with this
environment), so the success path runs a stand-in `paddlespeech` package, written by the test,
that reports what the real ASRExecutor would receive: sample rate, duration and force_yes."""
import sys

import numpy as np
import pytest
import soundfile as sf

from emovc.asr import load_asr
from emovc.asr.evaluate import normalise_text
from emovc.core.audio import load_audio
from emovc.core.errors import UserError

STAND_IN = '''
import soundfile as sf

class ASRExecutor:
    def __call__(self, audio_file, model, lang, sample_rate, config, ckpt_path, device, force_yes):
        info = sf.info(audio_file)
        if info.samplerate != 16000 and not force_yes:
            input("resample? [y/n]")           # what PaddleSpeech does; stdin is closed
        return f"{info.samplerate} {info.duration:.1f} {force_yes} {model} {lang}"
'''


def test_missing_interpreter_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.delenv("ASR_PADDLE_PYTHON", raising=False)
    with pytest.raises(UserError, match="needs its own Python interpreter.*requirements-paddle.txt"):
        load_asr("paddlespeech")
    with pytest.raises(UserError, match="nowhere/bin/python' not found.*requirements-paddle.txt"):
        load_asr("paddlespeech", python=str(tmp_path / "nowhere" / "bin" / "python"))
    monkeypatch.setenv("ASR_PADDLE_PYTHON", sys.executable)          # a Python without paddlespeech
    with pytest.raises(UserError, match="has no paddlespeech package"):
        load_asr("paddlespeech")


def test_bad_language_and_options(tmp_path):
    with pytest.raises(UserError, match="choose one of: en, zh"):
        load_asr("paddlespeech", language="auto", python=sys.executable)
    with pytest.raises(UserError, match="'config'.*not found"):
        load_asr("paddlespeech", python=sys.executable, config=str(tmp_path / "model.yaml"))


def test_windows_reach_paddle_at_16k_under_30s_non_interactively(tmp_path, monkeypatch, shared_data):
    package = tmp_path / "site" / "paddlespeech" / "cli" / "asr"
    package.mkdir(parents=True)
    for folder in (package, package.parent, package.parent.parent):
        (folder / "__init__.py").write_text("")
    (package / "infer.py").write_text(STAND_IN)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "site"))
    clip, _ = load_audio(shared_data / "ravdess" / "Actor_01" / "03-01-05-02-01-01-01.flac", sr=48000)
    long = np.concatenate([np.concatenate([clip, np.zeros(48000, np.float32)]) for _ in range(16)])
    path = tmp_path / "long48k.wav"
    sf.write(path, long, 48000)                                       # 80 s at 48 kHz
    t = load_asr("paddlespeech", python=sys.executable).transcribe(path)
    assert len(t.segments) >= 3 and abs(t.duration - len(long) / 48000) < 0.01
    for segment in t.segments:
        rate, seconds, force_yes, model, lang = segment.text.split()
        assert (rate, force_yes, model, lang) == ("16000", "True", "transformer_librispeech", "en")
        assert float(seconds) <= 30.0 and abs(float(seconds) - (segment.end - segment.start)) < 0.1
    assert normalise_text(t.text).startswith("sixteen thousand")
