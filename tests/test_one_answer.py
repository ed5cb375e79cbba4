"""One recording, one answer: predict.py, detect.py, timeline.py and the app give the same label
and probabilities for the same file and config (all ask `analysis.Analyzer` / `Recognizer.recognise`),
on a real short clip and on a real 14-s recording of three emotions (several overlapping windows);
and the app runs SER once on a long upload (its timeline and its emotion come from one pass)."""
import json

import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from emovc.commands import predict
from emovc.commands import timeline as timeline_cli
from emovc.core.audio import SR, load_audio
from emovc.core.config import load_config
from emovc.convert import Converter, DetectConfig, Request
from emovc.ser.recognizer import Recognizer
from emovc.web.config import AppConfig
from emovc.web.server import create_app


@pytest.fixture(scope="module")
def recordings(shared_data, tmp_path_factory):
    """A 3.5-s RAVDESS clip, and 14 s of one actor: angry, sad, happy, angry (FLAC in, WAV out)."""
    folder = shared_data / "ravdess" / "Actor_03"
    clip = folder / "03-01-05-02-01-01-03.flac"
    parts = [load_audio(folder / f"03-01-{code:02d}-02-01-01-03.flac", sr=SR)[0] for code in (5, 4, 3, 5)]
    long = tmp_path_factory.mktemp("one") / "four.wav"
    sf.write(long, np.concatenate(parts), SR)
    return [clip, long]


@pytest.fixture(scope="module")
def converter():
    return Converter(load_config("configs/detect.yaml", DetectConfig))


def _same(a: dict, b: dict):
    assert a["label"] == b["label"]
    assert a["probabilities"] == pytest.approx(b["probabilities"], abs=2e-4)


def test_every_entry_point_gives_one_answer(recordings, converter, capsys, tmp_path):
    predict.main([*map(str, recordings), "--json"])
    printed = json.loads(capsys.readouterr().out)
    for path, said in zip(recordings, printed):
        report = converter.convert(path, Request("sad", "middlemale", text="Fine.", check=False), tmp_path / "out")
        _same(report["detected_emotion"], said)

        out = tmp_path / f"{path.stem}.json"
        timeline_cli.main([str(path), "--no-text", "--quiet", "--json-out", str(out)])
        _same(json.loads(out.read_text())["emotion"], said)
    assert len(json.loads(out.read_text())["rows"]) >= 5          # the long one: overlapping windows


def test_the_app_gives_the_same_answer_and_runs_ser_once_on_a_long_upload(recordings, converter, capsys,
                                                                          monkeypatch):
    predict.main([str(recordings[1]), "--json"])
    said = json.loads(capsys.readouterr().out)[0]
    calls = []
    passes = Recognizer.window_features
    monkeypatch.setattr(Recognizer, "window_features",
                        lambda self, reader, spans: calls.append(1) or passes(self, reader, spans))
    config = load_config("configs/app.yaml", AppConfig, ["timeline.min_duration_s=10"])
    with TestClient(create_app(config, converter.config, converter)) as client:
        token = client.post("/api/session").json()["token"]
        result = client.post(f"/api/s/{token}/analyse", params={"name": "four.wav"},
                             content=recordings[1].read_bytes()).json()
    _same(result["detected_emotion"], said)
    assert result["timeline"] is not None and result["timeline"]["emotion"]["label"] == said["label"]
    assert len(calls) == 1, "the long upload's SER ran more than once"
