"""Where the project's files are: the shipped configs and checkpoints, and the cache.

In a clone of the repository `configs/` and `checkpoints/` sit beside the package, at the
repository's root; an installed package (`pip install .`) carries them inside itself.
"""
import os
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]
IN_CHECKOUT = (PACKAGE.parent / "configs").is_dir() and (PACKAGE.parent / "checkpoints").is_dir()
ROOT = PACKAGE.parent if IN_CHECKOUT else PACKAGE
BASES = (ROOT,) if IN_CHECKOUT else (ROOT, PACKAGE.parent)    # what relative paths in configs start from
# Derived files (features, joined weights, prosody analyses): EMOVC_CACHE, else the clone's cache/,
# else the user's cache folder.
CACHE = Path(os.environ.get("EMOVC_CACHE") or (ROOT / "cache" if IN_CHECKOUT else Path.home() / ".cache" / "emovc"))
