"""emovc/web/uploads.py: the formats browsers record or export decode; the size, duration and type
limits refuse with one-line messages. The fixtures are the bundled sample, re-encoded with PyAV."""
import asyncio

import av
import numpy as np
import pytest
import soundfile as sf

from emovc.core.audio import load_audio
from emovc.web.uploads import RequestError, check_name, decode, receive

SAMPLE = "samples/sample.wav"


def _encode(path, codec, rate, wav, sr):
    """Write `wav` into the container named by `path`'s extension with `codec`."""
    from emovc.core.audio import resample
    wav = resample(wav, sr, rate)
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=rate, layout="mono")
        frame = av.AudioFrame.from_ndarray((wav[None] * 32767).astype(np.int16), format="s16", layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


@pytest.mark.parametrize("name, codec, rate", [
    ("rec.webm", "libopus", 48000),      # what Chromium's and Firefox's MediaRecorder make
    ("rec.ogg", "libopus", 48000),
    ("rec.mp3", "libmp3lame", 44100),
    ("rec.m4a", "aac", 44100),           # Safari's recordings, phone voice memos
])
def test_browser_formats_decode_to_the_same_speech(tmp_path, name, codec, rate):
    wav, sr = load_audio(SAMPLE)
    path = _encode(tmp_path / name, codec, rate, wav, sr)
    check_name(name)
    decoded, decoded_sr = decode(path, name, max_duration_s=60, min_duration_s=0.3)
    assert decoded_sr == rate
    assert len(decoded) / decoded_sr == pytest.approx(len(wav) / sr, abs=0.1)
    assert np.abs(decoded).max() > 0.1


def test_wav_and_flac_decode(tmp_path):
    wav, sr = load_audio(SAMPLE)
    sf.write(tmp_path / "a.flac", wav, sr)
    for path in (SAMPLE, tmp_path / "a.flac"):
        decoded, _ = decode(path, "x", 60, 0.3)
        assert len(decoded) == len(wav)


@pytest.mark.parametrize("name", ["notes.txt", "photo.png", "noextension", ""])
def test_other_types_are_refused_by_name(name):
    with pytest.raises(RequestError, match="not an audio format this app reads; upload WAV, WebM/Opus") as e:
        check_name(name)
    assert e.value.status == 415


def test_non_audio_with_an_audio_name_is_refused(tmp_path):
    path = tmp_path / "upload.wav"
    path.write_bytes(b"<html>not audio</html>" * 50)
    with pytest.raises(RequestError, match=r"^clip\.wav: not a readable audio file .*; upload WAV") as e:
        decode(path, "clip.wav", 60, 0.3)
    assert e.value.status == 415 and str(tmp_path) not in str(e.value)   # no server paths shown


def test_too_short_is_refused(tmp_path):
    sf.write(tmp_path / "u.wav", np.zeros(800, np.float32), 16000)
    with pytest.raises(RequestError, match="only 0.05 s long"):
        decode(tmp_path / "u.wav", "short.wav", 60, 0.3)


@pytest.mark.parametrize("name, codec", [("long.wav", None), ("long.webm", "libopus")])
def test_duration_limit_before_decoding(tmp_path, name, codec):
    """WAV has its duration in the header; a browser's WebM has none, so it is counted."""
    wav, sr = load_audio(SAMPLE)
    wav = np.tile(wav, 4)                                   # 13.6 s
    path = tmp_path / name
    if codec:
        _encode(path, codec, 48000, wav, sr)
    else:
        sf.write(path, wav, sr)
    with pytest.raises(RequestError, match="longer than the limit of 0.1 min") as e:
        decode(path, name, max_duration_s=6, min_duration_s=0.3)
    assert e.value.status == 413
    assert len(decode(path, name, max_duration_s=20, min_duration_s=0.3)[0]) > 0


async def _chunks(parts):
    for part in parts:
        yield part


def test_receive_stops_past_the_size_limit(tmp_path):
    path = tmp_path / "up.wav"
    with pytest.raises(RequestError, match="larger than 0.001 MB") as e:
        asyncio.run(receive(_chunks([b"x" * 600, b"x" * 600]), path, max_bytes=1000))
    assert e.value.status == 413
    asyncio.run(receive(_chunks([b"x" * 600]), tmp_path / "ok.wav", max_bytes=1000))
    assert (tmp_path / "ok.wav").stat().st_size == 600
    assert (tmp_path / "ok.wav").stat().st_mode & 0o077 == 0        # private to the server


def test_receive_refuses_empty(tmp_path):
    with pytest.raises(RequestError, match="upload is empty"):
        asyncio.run(receive(_chunks([]), tmp_path / "e.wav", max_bytes=1000))
