"""Datasets as tables: one row per clip with its label, speaker and corpus.

`load_dataset` reads a `manifest.csv` (the format of ../shared/data), a folder holding one, a
folder-per-emotion layout (`datasets/angry/*.wav`), or a folder of files named in the RAVDESS,
CREMA-D, TESS, SAVEE or EmoDB scheme, and combines several sources into one table.
"""
from __future__ import annotations

import io
import logging
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from emovc.core.audio import AUDIO_EXTENSIONS
from emovc.core.config import MAX_MANIFEST_BYTES, read_text
from emovc.core.errors import UserError
from emovc.core.labels import EMOTIONS, normalise_emotion

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)
COLUMNS = ["path", "corpus", "speaker", "gender", "emotion", "intensity", "text", "duration_s"]


def _load_schemes(path: Path) -> dict:
    table = yaml.safe_load(path.read_text(encoding="utf-8"))
    others = table.pop("other_labels")
    for corpus, scheme in table.items():
        for code, label in scheme["emotions"].items():
            if label not in others and normalise_emotion(label) != label:
                raise ValueError(f"{path}: {corpus} code {code!r} maps to non-canonical label {label!r}")
    return {"other_labels": tuple(others), **table}


SCHEMES = _load_schemes(Path(__file__).with_name("corpora.yaml"))
OTHER_LABELS: tuple[str, ...] = SCHEMES["other_labels"]

# One pattern per corpus; a file name (without extension) matching it carries its own labels.
PATTERNS = {
    "ravdess": re.compile(r"^(\d\d)-(\d\d)-(?P<emotion>\d\d)-(?P<intensity>\d\d)-(?P<text>\d\d)-(\d\d)-(?P<speaker>\d\d)$"),
    "cremad": re.compile(r"^(?P<speaker>\d{4})_(?P<text>[A-Z]{3})_(?P<emotion>[A-Z]{3})_(?P<intensity>[A-Z]{2})$"),
    "tess": re.compile(r"^(?P<speaker>OAF|YAF|OA|YA)_(?P<text>[a-z]+)_(?P<emotion>[a-z]+)$", re.I),
    "savee": re.compile(r"^(?P<speaker>DC|JE|JK|KL)_(?P<emotion>a|d|f|h|n|sa|su)\d\d$"),
    "emodb": re.compile(r"^(?P<speaker>\d\d)(?P<text>[ab]\d\d)(?P<emotion>[WLEAFTN])[a-z]$"),
}


def canonical_label(name: str, where: str) -> str:
    """A canonical emotion, or one of OTHER_LABELS; anything else names `where` and the label."""
    key = str(name).strip().lower()
    if key in OTHER_LABELS:
        return key
    try:
        return normalise_emotion(key)
    except UserError:
        raise UserError(f"{where}: unknown emotion label {name!r}; use one of: "
                        f"{', '.join(EMOTIONS + OTHER_LABELS)} (or a synonym)") from None


def parse_filename(path: str | os.PathLike) -> dict | None:
    """Labels from a file name in a known corpus scheme, or None if it follows none."""
    path = Path(path)
    for corpus, pattern in PATTERNS.items():
        m = pattern.match(path.stem)
        if not m:
            continue
        scheme, parts = SCHEMES[corpus], m.groupdict()
        code = parts["emotion"] if corpus != "tess" else parts["emotion"].lower()
        if code not in scheme["emotions"]:
            raise UserError(f"{path}: unknown {corpus} emotion code {parts['emotion']!r}")
        speaker = parts["speaker"].upper()
        if corpus == "ravdess":
            gender = "male" if int(speaker) % 2 else "female"
        else:
            gender = scheme.get("gender", {}).get(speaker, "")
        text = parts.get("text", "")
        return {"corpus": corpus, "speaker": f"{corpus}_{speaker}", "gender": gender,
                "emotion": scheme["emotions"][code],
                "intensity": scheme.get("intensity", {}).get(parts.get("intensity"), ""),
                "text": scheme.get("text", {}).get(text, text)}
    return None


def _read_manifest(path: Path) -> pd.DataFrame:
    import pandas as pd
    text = read_text(path, "manifest", MAX_MANIFEST_BYTES)
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise UserError(f"{path}: not a readable CSV manifest ({e})") from None
    missing = [c for c in ("path", "emotion") if c not in df.columns]
    if missing:
        raise UserError(f"{path}: manifest lacks column(s) {', '.join(missing)}; expected {', '.join(COLUMNS)}")
    df = df.reindex(columns=COLUMNS, fill_value="")
    df["path"] = [str((path.parent / p).resolve()) for p in df["path"]]
    df["emotion"] = [canonical_label(e, f"{path}: row for {p}") for p, e in zip(df["path"], df["emotion"])]
    df["corpus"] = df["corpus"].replace("", path.parent.name)
    df["duration_s"] = pd.to_numeric(df["duration_s"], errors="coerce")
    return df


def _read_folder(folder: Path) -> pd.DataFrame:
    import pandas as pd
    files = sorted(f for f in folder.rglob("*") if f.suffix.lower() in AUDIO_EXTENSIONS and f.is_file())
    if not files:
        raise UserError(f"{folder}: holds no audio files and no manifest.csv")
    rows = []
    for f in files:
        row = parse_filename(f)
        if row is None:
            try:
                emotion = canonical_label(f.parent.name, str(f))
            except UserError:
                raise UserError(f"{f}: cannot tell its emotion: the name follows no known scheme (RAVDESS, "
                                f"CREMA-D, TESS, SAVEE, EmoDB) and its folder {f.parent.name!r} is not an "
                                f"emotion; sort files into folders per emotion or write a manifest.csv") from None
            row = {"corpus": folder.name, "speaker": "", "gender": "", "emotion": emotion,
                   "intensity": "", "text": ""}
        rows.append({"path": str(f.resolve()), **row, "duration_s": float("nan")})
    return pd.DataFrame(rows, columns=COLUMNS)


def read_source(source: str | os.PathLike) -> pd.DataFrame:
    """One source: a manifest CSV, a folder holding manifest.csv, or a folder of audio."""
    path = Path(source).expanduser()
    if not path.exists():
        raise UserError(f"{path}: no such dataset file or folder")
    if path.is_file():
        if path.suffix.lower() != ".csv":
            raise UserError(f"{path}: a dataset source must be a manifest .csv or a folder")
        return _read_manifest(path)
    if (path / "manifest.csv").is_file():
        return _read_manifest(path / "manifest.csv")
    return _read_folder(path)


def load_dataset(sources: str | os.PathLike | list, classes: list[str] | None = None,
                 label_map: dict[str, str] | None = None) -> pd.DataFrame:
    """Rows of every source, labels mapped by `label_map` and restricted to `classes`.

    Without `classes`, all 8 emotions that occur are kept; other labels (boredom, arousal
    levels) are dropped, and any drop is logged with its count.
    """
    import pandas as pd
    sources = sources if isinstance(sources, (list, tuple)) else [sources]
    if not sources:
        raise UserError("no dataset sources given; set data.sources")
    df = pd.concat([read_source(s) for s in sources], ignore_index=True)
    mapping = {canonical_label(k, "data.label_map"): canonical_label(v, "data.label_map")
               for k, v in (label_map or {}).items()}
    df["emotion"] = df["emotion"].replace(mapping)
    wanted = [canonical_label(c, "data.classes") for c in classes] if classes else list(EMOTIONS)
    keep = df["emotion"].isin(wanted)
    if (~keep).any():
        dropped = df.loc[~keep, "emotion"].value_counts()
        log.info("dropped %d clips outside the class set (%s)", int((~keep).sum()),
                 ", ".join(f"{k} {v}" for k, v in dropped.items()))
    df = df[keep].reset_index(drop=True)
    if df.empty:
        raise UserError(f"dataset is empty after choosing classes {', '.join(wanted)} "
                        f"from {', '.join(map(str, sources))}")
    if classes:
        absent = [c for c in wanted if c not in set(df["emotion"])]
        if absent:
            raise UserError(f"class(es) {', '.join(absent)} have no clips in {', '.join(map(str, sources))}")
    return df


def class_labels(df: pd.DataFrame, classes: list[str] | None = None) -> list[str]:
    """The label order models use: the configured classes, else canonical order of those present."""
    if classes:
        return [canonical_label(c, "data.classes") for c in classes]
    present = set(df["emotion"])
    return [e for e in EMOTIONS + OTHER_LABELS if e in present]
