"""emovc/web/server.py through FastAPI's test client, with the real models: analyse and convert real
speech, private sessions, one-line refusals of bad uploads and requests, temp files removed.
Also app.py's command line."""
import io
import os
import signal
import socket
import subprocess
import sys
import threading

import httpx
import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from emovc.asr.evaluate import wer
from emovc.core.audio import load_audio
from emovc.core.config import load_config
from emovc.core.labels import EMOTIONS
from emovc.convert import DetectConfig
from emovc.ser.recognizer import UNCERTAIN
from emovc.web.config import AppConfig
from emovc.web.server import create_app

WORDS = "We waited all afternoon, but nobody came to the meeting."
SAMPLE = "samples/sample.wav"


@pytest.fixture(scope="module")
def client():
    config = load_config("configs/app.yaml", AppConfig, ["upload.max_mb=0.5", "upload.max_duration_s=8",
                                                             "timeline.min_duration_s=6"])
    app = create_app(config, load_config(config.detect, DetectConfig, ["ser.adapt=true"]))   # live learns the voice
    with TestClient(app) as client:
        yield client
    assert not app.state.sessions.root.exists(), "the server's temporary folder outlives it"


def _session(client) -> str:
    return client.post("/api/session").json()["token"]


def _upload(client, token, data: bytes, name: str):
    return client.post(f"/api/s/{token}/analyse", params={"name": name}, content=data)


def _refused(response, status: int, pattern: str):
    assert response.status_code == status, response.text
    message = response.json()["error"]
    assert message.startswith("error: ") and "\n" not in message
    assert pattern in message, message


def _leftovers(client, token):
    return sorted(p.name for p in (client.app.state.sessions.root / token).iterdir())


def test_analyse_and_convert_real_speech(client):
    token = _session(client)
    with open(SAMPLE, "rb") as f:
        result = _upload(client, token, f.read(), "sample.wav").json()
    assert result["duration_s"] == pytest.approx(3.39, abs=0.01)
    assert result["detected_emotion"]["top"] in EMOTIONS
    assert sum(result["detected_emotion"]["probabilities"].values()) == pytest.approx(1.0, abs=1e-3)
    assert wer(WORDS, result["transcript"]) <= 0.2
    assert result["text_emotion"]["top"] in EMOTIONS and result["fused_emotion"]["top"] in EMOTIONS
    assert result["timeline"] is None                             # 3.4 s < timeline.min_duration_s
    assert client.get(result["picture_url"]).content[:8] == b"\x89PNG\r\n\x1a\n"
    assert _leftovers(client, token) == ["input.wav", "pictures"]    # the upload itself is gone

    answer = client.post(f"/api/s/{token}/convert", json={"emotion": "sad", "speaker": "middlemale"}).json()
    report = answer["report"]
    assert report["target_emotion"] == "sad" and report["speaker"] == "middlemale"
    assert report["detected_emotion"]["probabilities"] == result["detected_emotion"]["probabilities"]
    audio = client.get(answer["audio_url"])
    assert audio.status_code == 200
    wav, sr = sf.read(io.BytesIO(audio.content))
    assert 1.0 < len(wav) / sr < 8.0 and np.abs(wav).max() > 0.05
    assert client.get(answer["report_url"]).json() == report
    assert client.get(answer["picture_url"]).content[:4] == b"\x89PNG"   # input and output side by side

    other = _session(client)                                     # another user sees none of it
    _refused(client.get(answer["audio_url"].replace(token, other)), 404, "no such file in this session")
    _refused(client.post(f"/api/s/{other}/convert", json={"emotion": "sad", "speaker": "middlemale"}),
             400, "no recording yet")


def test_a_long_recording_gets_a_timeline(client):
    token = _session(client)
    wav, sr = load_audio(SAMPLE)
    data = io.BytesIO()
    sf.write(data, np.concatenate([wav, wav]), sr, format="WAV")   # 6.8 s >= timeline.min_duration_s
    result = _upload(client, token, data.getvalue(), "two.wav").json()
    timeline = result["timeline"]
    assert len(timeline["rows"]) >= 2 and timeline["rows"][-1]["end"] == pytest.approx(6.78, abs=0.05)
    assert all(row["label"] in {*EMOTIONS, UNCERTAIN, "silence"} for row in timeline["rows"])
    assert sum(timeline["summary"]["share"].values()) == pytest.approx(1.0, abs=1e-3)
    assert wer(f"{WORDS} {WORDS}", result["transcript"]) <= 0.2    # the timeline's own ASR segments
    assert client.get(timeline["picture_url"]).content[:4] == b"\x89PNG"


def test_bad_uploads_are_refused_in_one_line(client):
    token = _session(client)
    wav, sr = load_audio(SAMPLE)
    long = io.BytesIO()
    sf.write(long, np.tile(wav, 3), sr, format="WAV")              # 10 s > the 8 s limit, 0.33 MB
    cases = [
        (b"hello", "notes.txt", 415, ".txt is not an audio format this app reads"),
        (b"<html>" * 100, "clip.wav", 415, "clip.wav: not a readable audio file"),
        (b"", "clip.webm", 400, "upload is empty"),
        (b"\0" * 600_000, "big.wav", 413, "larger than 0.5 MB"),
        (long.getvalue(), "long.wav", 413, "longer than the limit"),
    ]
    for data, name, status, pattern in cases:
        _refused(_upload(client, token, data, name), status, pattern)
    assert _leftovers(client, token) == []
    _refused(_upload(client, "no-such-session", b"x", "a.wav"), 404, "session has expired or does not exist")


def test_bad_requests_are_refused_in_one_line(client):
    token = _session(client)
    with open(SAMPLE, "rb") as f:
        _upload(client, token, f.read(), "sample.wav")
    convert = f"/api/s/{token}/convert"
    _refused(client.post(convert, json={"emotion": "joyful-ish", "speaker": "youngman"}), 400, "unknown emotion")
    _refused(client.post(convert, json={"emotion": "sad", "speaker": "robot"}), 400, "unknown speaker 'robot'")
    _refused(client.post(convert, json={"emotion": "sad", "speaker": "youngman", "intensity": "loud"}),
             400, "intensity")
    _refused(client.post(convert, json={"speaker": "youngman"}), 400, "emotion: Field required")
    _refused(client.get(f"/api/s/{token}/files/..%2finput.wav"), 404, "")
    _refused(client.get(f"/api/s/{token}/files/input.wav"), 404, "no such file in this session")
    live = f"/api/s/{token}/live"
    _refused(client.post(f"{live}/chunk", content=b"\0\0"), 409, "press Start first")
    _refused(client.post(f"{live}/stop"), 409, "live mode is not running")
    client.post(f"{live}/start")
    _refused(client.post(f"{live}/chunk", content=b"\0\0\0"), 413, "16-bit mono PCM")
    _refused(client.post(f"{live}/chunk", content=b"\0" * 400_000), 413, "at most 10 s")
    _refused(client.post(f"{live}/chunk", params={"sr": 100}, content=b"\0\0"), 400, "sample rate 100 Hz")


def test_live_over_http(client):
    token = _session(client)
    wav, _ = load_audio(SAMPLE, sr=16000)
    pcm = (wav * 32767).astype("<i2")
    live = f"/api/s/{token}/live"
    assert client.post(f"{live}/start").json() == {"emotion": None, "transcript": "", "heard_s": 0.0,
                                                   "transcribing": False, "behind_s": 0.0, "skipped_s": 0.0,
                                                   "asr_model": "base",
                                                   "adaptation": {"heard": 0, "needed": 5, "learnt": False}}
    for start in range(0, len(pcm), 16000):
        state = client.post(f"{live}/chunk", content=pcm[start:start + 16000].tobytes()).json()
    assert state["emotion"]["top"] in EMOTIONS and state["heard_s"] == pytest.approx(3.39, abs=0.01)
    assert 1 <= state["adaptation"]["heard"] <= 4 and not state["adaptation"]["learnt"]    # a window per chunk
    final = client.post(f"{live}/stop").json()
    assert wer(WORDS, final["transcript"]) <= 0.2


def test_models_load_at_start_and_the_page_has_an_icon(client):
    """The models load in the background as the server starts; /api/status says when they are ready."""
    status = client.get("/api/status").json()
    assert set(status) == {"ready", "error"} and status["error"] is None
    while not status["ready"]:                  # no timing asserted: it becomes ready, however slow
        threading.Event().wait(0.5)
        status = client.get("/api/status").json()
        assert status["error"] is None
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/svg+xml"
    assert icon.content.startswith(b"<svg")


def test_app_help_and_a_busy_port():
    shown = subprocess.run([sys.executable, "app.py", "--help"], capture_output=True, text=True, timeout=30)
    assert shown.returncode == 0 and "--port" in shown.stdout and "--host" in shown.stdout
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        run = subprocess.run([sys.executable, "app.py", "--port", str(port)], capture_output=True, text=True,
                             timeout=60)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines()[-1].startswith(f"error: cannot listen on 127.0.0.1:{port}")
    bad = subprocess.run([sys.executable, "app.py", "--set", "upload.max_gb=1"], capture_output=True,
                         text=True, timeout=60)
    assert bad.returncode == 2 and "unknown key 'upload.max_gb'" in bad.stderr


def test_sigterm_stops_a_live_session_at_once(tmp_path):
    """SIGTERM while a live session's transcription runs: app.py exits within 2 s (the target of
    issue 21), abandoning the transcription, and deletes the session folders."""
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    app = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], stderr=subprocess.PIPE, text=True,
                           env={**os.environ, "TMPDIR": str(tmp_path)})
    try:
        while not app.stderr.readline().startswith("serving on"):
            assert app.poll() is None, "app.py did not start"
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600)
        token = client.post("/api/session").json()["token"]
        assert [p.name for p in tmp_path.glob("emotion-app-*/*")] == [token]
        wav, _ = load_audio(SAMPLE, sr=16000)
        pcm = (np.tile(wav, 2) * 32767).astype("<i2")
        client.post(f"/api/s/{token}/live/start").raise_for_status()
        client.post(f"/api/s/{token}/live/chunk", content=pcm.tobytes()).raise_for_status()
        answers = []

        def stop():                     # waits on the transcription of the 7 s just sent
            try:
                answers.append(client.post(f"/api/s/{token}/live/stop"))
            except httpx.TransportError as e:
                answers.append(e)
        stopping = threading.Thread(target=stop, daemon=True)
        stopping.start()
        app.send_signal(signal.SIGTERM)
        assert app.wait(timeout=2) == 0
        stopping.join(timeout=10)
        assert isinstance(answers[0], httpx.TransportError), "the transcription was abandoned, not answered"
    finally:
        app.kill()
    assert app.stderr.read().strip().splitlines()[-1] == "stopped; the session folders are deleted"
    assert list(tmp_path.glob("emotion-app-*")) == []
