"""asr: transcripts of real RAVDESS speech from paths and waveforms, long audio, silence, bad input, CLI."""
import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from emovc.core import audio as core_audio
from emovc.asr import BACKENDS, NoSpeechWarning, Transcript, load_asr, transcribe
from emovc.asr.__main__ import main
from emovc.asr.evaluate import normalise_text, wer
from emovc.core.audio import load_audio
from emovc.core.errors import AudioError, UserError

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]
DOGS = "ravdess/Actor_02/03-01-03-01-02-01-02.flac"     # female, happy: "Dogs are sitting by the door"


@pytest.fixture(scope="module")
def base():
    return load_asr("whisper", "base", "en")


def test_base_transcribes_real_clips(base, ravdess_clip, shared_data):
    t = base.transcribe(ravdess_clip)
    assert isinstance(t, Transcript) and t.language == "en"
    assert normalise_text(t.text) == "kids are talking by the door"
    assert 0 <= t.segments[0].start < t.segments[-1].end <= t.duration + 0.5
    assert normalise_text(base.transcribe(shared_data / DOGS).text) == "dogs are sitting by the door"


def test_waveform_input_any_rate(base, ravdess_clip):
    wav16, _ = load_audio(ravdess_clip, sr=16000)
    assert normalise_text(base.transcribe(wav16).text) == "kids are talking by the door"
    wav48, _ = load_audio(ravdess_clip, sr=48000)
    assert normalise_text(base.transcribe(wav48, sr=48000).text) == "kids are talking by the door"


def test_auto_language_detects_english(ravdess_clip):
    t = transcribe(ravdess_clip, model="base", language="auto")
    assert t.language == "en" and "door" in normalise_text(t.text)


def test_auto_language_encodes_each_window_once(shared_data, monkeypatch):
    """Detecting the language reuses the window's encoding (faster-whisper alone encodes it twice),
    and the memory is dropped after each window, so a later call encodes its own input."""
    asr_model = load_asr("whisper", "base", "auto")
    memo = asr_model.whisper.encode
    passes = []
    monkeypatch.setattr(memo, "encode", lambda features, inner=memo.encode: passes.append(1) or inner(features))
    for _ in range(2):
        t = asr_model.transcribe(shared_data / DOGS)
        assert t.language == "en" and normalise_text(t.text) == "dogs are sitting by the door"
    assert len(passes) == 2 and memo.last is None


def test_last_encoding_answers_only_a_repeat():
    from emovc.asr.whisper import LastEncoding
    calls = []
    memo = LastEncoding(lambda f: calls.append(f.copy()) or float(f.sum()))
    a, b = np.ones((2, 3), np.float32), np.zeros((2, 3), np.float32)
    assert memo(a) == memo(a.copy()) == 6.0 and len(calls) == 1
    assert memo(b) == 0.0 and memo(a) == 6.0 and len(calls) == 3
    a[0, 0] = 5                             # the caller's array changing does not fool it
    assert memo(a) == 10.0 and len(calls) == 4
    memo.forget()
    assert memo(a) == 10.0 and len(calls) == 5


def test_long_audio_is_windowed_and_streamed(base, shared_data, tmp_path, monkeypatch):
    """~2 min (several 30 s windows), read in 20 s blocks: every sentence, in order, with sane times.

    12 s pauses keep two or three sentences per window. RAVDESS has only two sentences, and
    Whisper drops sentences from a window that repeats them: the first window of 8 clips 2 s
    apart (sample-identical to the input, holding all its VAD speech) decodes alone, at
    temperature 0, to 3 of its 5 sentences; with the sentences alternating and 2 s apart the
    result still changed between runs here (all 8, then 4). That is Whisper, not the windowing.
    """
    clips = sorted((shared_data / "ravdess" / "Actor_03").glob("03-01-0[1-3]-01-*.flac"))[:8]
    kids, dogs = ([p for p in clips if p.name.split("-")[4] == s] for s in ("01", "02"))
    paths = [p for pair in zip(kids, dogs) for p in pair]
    gap = np.zeros(16000 * 12, np.float32)
    long = np.concatenate([part for p in paths for part in (load_audio(p, sr=16000)[0], gap)])
    path = tmp_path / "long.wav"
    sf.write(path, long, 16000)
    monkeypatch.setattr(core_audio, "BLOCK_S", 20.0)
    t = base.transcribe(path)
    reference = " ".join("Kids are talking by the door" if p.name.split("-")[4] == "01" else
                         "Dogs are sitting by the door" for p in paths)
    assert wer(reference, t.text) <= 0.05
    assert abs(t.duration - len(long) / 16000) < 0.01
    starts = [s.start for s in t.segments]
    assert starts == sorted(starts) and t.segments[-1].end <= t.duration + 0.5


def test_silence_gives_empty_transcript_and_warning(base, tmp_path):
    with pytest.warns(NoSpeechWarning, match="no speech"):
        t = base.transcribe(np.zeros(16000 * 3, np.float32))
    assert (t.text, t.segments) == ("", [])
    noise = tmp_path / "hiss.wav"
    sf.write(noise, np.random.default_rng(0).normal(0, 0.003, 16000 * 2).astype(np.float32), 16000)
    with pytest.warns(NoSpeechWarning):
        assert base.transcribe(noise).text == ""


def test_bad_input(base, tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "notes.wav").write_text("not audio at all")
    with pytest.raises(AudioError, match="empty"):
        base.transcribe(tmp_path / "empty.wav")
    with pytest.raises(AudioError, match="not a readable audio file"):
        base.transcribe(tmp_path / "notes.wav")
    with pytest.raises(AudioError, match="mono"):
        base.transcribe(np.zeros((2, 16000), np.float32))
    with pytest.raises(AudioError, match="empty or holds NaN"):
        base.transcribe(np.zeros(0, np.float32))


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(UserError, match="choose one of: paddlespeech, whisper"):
        load_asr("kaldi")
    with pytest.raises(UserError, match="choose auto or one of: af, am, ar, .*, en, "):
        load_asr("whisper", "base", language="klingon")
    with pytest.raises(UserError, match="valid keys here: beam_size"):
        load_asr("whisper", "base", beams=3)
    assert BACKENDS.names() == ["paddlespeech", "whisper"]


def test_cli_json_and_plain(ravdess_clip, shared_data, capsys):
    assert main([str(ravdess_clip), str(shared_data / DOGS), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [normalise_text(r["text"]) for r in out] == ["kids are talking by the door",
                                                       "dogs are sitting by the door"]
    assert out[0]["path"] == str(ravdess_clip) and out[0]["segments"][0]["end"] > 0
    assert main([str(ravdess_clip), "--set", "options.beam_size=1"]) == 0
    path, text = capsys.readouterr().out.rstrip("\n").split("\t")
    assert path == str(ravdess_clip) and normalise_text(text) == "kids are talking by the door"


def test_cli_bad_file_is_one_line_error(tmp_path):
    (tmp_path / "broken.flac").write_bytes(b"fLaC" + bytes(100))
    done = subprocess.run([sys.executable, "-m", "emovc.asr", str(tmp_path / "broken.flac")], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1 and "broken.flac" in done.stderr
