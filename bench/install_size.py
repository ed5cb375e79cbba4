"""The installed size of what requirements.txt pins, from each distribution's file list (RECORD),
in the environment this runs in. Bytecode Python compiles later (__pycache__) is not counted.

    python bench/install_size.py [requirements.txt]
"""
import re
import sys
from importlib import metadata
from pathlib import Path


def main() -> None:
    requirements = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "requirements.txt")
    pinned = {_name(re.split(r"[=<>\[; ]", line)[0]) for line in requirements.read_text().splitlines()
              if line and not line.startswith(("#", " ", "-"))}
    sizes = {}
    for dist in metadata.distributions():
        name = _name(dist.metadata["Name"])
        if name in pinned and name not in sizes:
            files = (dist.locate_file(f) for f in dist.files or [])
            sizes[name] = sum(f.stat().st_size for f in files if f.is_file())
    print(f"{len(sizes)} of {len(pinned)} pinned distributions installed, {sum(sizes.values()) / 1e9:.2f} GB")
    for name, size in sorted(sizes.items(), key=lambda kv: -kv[1])[:5]:
        print(f"  {name}: {size / 1e9:.2f} GB")
    if pinned - sizes.keys():
        print(f"not installed: {', '.join(sorted(pinned - sizes.keys()))}")


def _name(name: str) -> str:
    return name.strip().lower().replace("_", "-")


if __name__ == "__main__":
    main()
