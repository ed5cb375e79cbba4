"""Shared test fixtures: the real corpora in ../shared/data, skipped with a reason when absent."""
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder holding ravdess/, urdu/, turevdb/, baved/ (each with manifest.csv)."""
    if not (SHARED_DATA / "ravdess" / "manifest.csv").is_file():
        pytest.skip(f"real speech corpora not found at {SHARED_DATA} (clone the project beside shared/)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def ravdess_clip(shared_data) -> Path:
    """One RAVDESS clip: actor 1, angry, strong, 'Kids are talking by the door'."""
    return shared_data / "ravdess" / "Actor_01" / "03-01-05-02-01-01-01.flac"
