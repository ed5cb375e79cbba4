"""The one place where YAML configs are loaded and validated.

A config is a tree of dataclasses (the schema). `load_config` reads YAML with `safe_load`,
applies `--set key.sub=value` overrides, and checks every key: an unknown key, a wrong type,
a missing required key, a number out of its `Range` or a missing file is a one-line ConfigError
naming the file and key. Files are read as bytes first (`read_text`): too large, or not UTF-8,
is an error too. Relative paths are resolved against the current folder, then against the
repository root.
"""
import dataclasses
import os
import re
import types
import typing
from pathlib import Path
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar, get_args, get_origin, get_type_hints

import yaml

from core.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
T = TypeVar("T")
MAX_CONFIG_BYTES = 1 << 20          # a config is a page of YAML; anything larger is a mistake
MAX_MANIFEST_BYTES = 64 << 20       # a manifest of a million clips


@dataclass(frozen=True)
class Range:
    """The allowed values of a number field: `Annotated[float, Range(0, 1)]`; `low_open` excludes `low`."""
    low: float | None = None
    high: float | None = None
    low_open: bool = False

    def __str__(self) -> str:
        low = "" if self.low is None else f"{'>' if self.low_open else '>='} {self.low:g}"
        high = "" if self.high is None else f"<= {self.high:g}"
        return " and ".join(filter(None, (low, high)))

    def contains(self, value: float) -> bool:
        above = self.low is None or (value > self.low if self.low_open else value >= self.low)
        return above and (self.high is None or value <= self.high)


class ExistingPath(type(Path())):
    """A path field that must exist when the config is loaded."""


def resolve_path(value: str | os.PathLike) -> Path:
    """Relative paths: the current folder first, else the repository root."""
    p = Path(value).expanduser()
    if p.is_absolute() or p.exists():
        return p
    return ROOT / p if (ROOT / p).exists() else p


def load_config(path: str | os.PathLike, schema: type[T], overrides: list[str] | tuple = ()) -> T:
    """Load `path` as `schema`, applying overrides of the form 'section.key=value'."""
    path = resolve_path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found; see configs/ for examples")
    text = read_text(path, "config", MAX_CONFIG_BYTES)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}:{where} not valid YAML ({getattr(e, 'problem', e)})") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping of keys to values")
    for item in overrides:
        apply_override(data, item, path)
    return from_dict(schema, data, str(path))


def read_text(path: str | os.PathLike, what: str, max_bytes: int) -> str:
    """The text of a UTF-8 file (a BOM and CRLF line ends are fine); ConfigError when it is larger
    than `max_bytes`, unreadable or not UTF-8 text (binary, UTF-16, Latin-1, an audio file)."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as e:
        raise ConfigError(f"{path}: cannot read the {what} ({e.strerror})") from None
    if len(data) > max_bytes:
        raise ConfigError(f"{path}: {what} is larger than {max_bytes >> 10} KiB; is this the right file?")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: {what} is not UTF-8 text (byte {data[e.start]:#04x} at offset "
                          f"{e.start}); save it as UTF-8") from None
    if "\0" in text:
        raise ConfigError(f"{path}: {what} is a binary file, not text; is this the right file?")
    return text.replace("\r\n", "\n")


def apply_override(data: dict, item: str, source: Path | str = "--set") -> None:
    """Set 'a.b.c=value' in `data`; the value is parsed as YAML (numbers, lists, booleans)."""
    key, sep, raw = item.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set {item!r}: expected KEY=VALUE, e.g. train.epochs=5")
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        value = raw
    *parents, leaf = key.strip().split(".")
    node = data
    for part in parents:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"{source}: --set {key}: '{part}' is not a section")
        node = child
    node[leaf] = value


def from_dict(schema: type[T], data: Any, source: str, prefix: str = "") -> T:
    """Build dataclass `schema` from a mapping, validating every key and type."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: key '{prefix.rstrip('.') or '<top>'}' must be a mapping")
    fields = {f.name: f for f in dataclasses.fields(schema)}
    hints = get_type_hints(schema, include_extras=True)
    unknown = [k for k in data if k not in fields]
    if unknown:
        raise ConfigError(f"{source}: unknown key '{prefix}{unknown[0]}'; valid keys here: "
                          f"{', '.join(fields)}")
    values = {}
    for name, field in fields.items():
        key = prefix + name
        if name in data:
            values[name] = _check(hints[name], data[name], source, key)
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise ConfigError(f"{source}: missing required key '{key}'")
    try:
        return schema(**values)     # a schema's __post_init__ checks ranges and combinations
    except ConfigError as e:
        raise ConfigError(f"{source}: {e}") from None


def _check(tp: Any, value: Any, source: str, key: str) -> Any:
    origin, args = get_origin(tp), get_args(tp)
    if origin is Annotated:
        value = _check(args[0], value, source, key)
        for allowed in tp.__metadata__:
            if isinstance(allowed, Range) and value is not None and not allowed.contains(value):
                raise ConfigError(f"{source}: key '{key}' is {value!r}; allowed: {allowed}")
        return value
    if dataclasses.is_dataclass(tp):
        return from_dict(tp, value if value is not None else {}, source, key + ".")
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for option in (a for a in args if a is not type(None)):
            try:
                return _check(option, value, source, key)
            except ConfigError as e:
                errors.append(e)
        raise errors[0]
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"{source}: key '{key}' is {value!r}; choose one of: "
                              f"{', '.join(map(str, args))}")
        return value
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{source}: key '{key}' must be a list, got {value!r}")
        return [_check(args[0], v, source, f"{key}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{source}: key '{key}' must be a mapping, got {value!r}")
        return {_check(args[0], k, source, key): _check(args[1], v, source, f"{key}.{k}")
                for k, v in value.items()}
    if tp is Any:
        return value
    if tp is ExistingPath:
        if not isinstance(value, str):
            raise ConfigError(f"{source}: key '{key}' must be a path, got {value!r}")
        p = resolve_path(value)
        if not p.exists():
            raise ConfigError(f"{source}: key '{key}': file or folder '{value}' not found")
        return ExistingPath(p)
    if tp is Path:
        if not isinstance(value, str):
            raise ConfigError(f"{source}: key '{key}' must be a path, got {value!r}")
        return Path(value)
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp is float and isinstance(value, str) and re.fullmatch(r"[-+]?\d+(\.\d*)?[eE][-+]?\d+", value.strip()):
        return float(value)             # YAML 1.1 reads 1e-4 (no dot) as a string
    if tp in (int, float, str, bool):
        if not isinstance(value, tp) or (tp is int and isinstance(value, bool)):
            raise ConfigError(f"{source}: key '{key}' must be {tp.__name__}, got {value!r}")
        return value
    raise TypeError(f"unsupported config type {tp} for {key}")


def config_to_dict(cfg: Any) -> Any:
    """A dataclass config as plain YAML-ready data (paths as strings)."""
    if dataclasses.is_dataclass(cfg):
        return {f.name: config_to_dict(getattr(cfg, f.name)) for f in dataclasses.fields(cfg)}
    if isinstance(cfg, dict):
        return {k: config_to_dict(v) for k, v in cfg.items()}
    if isinstance(cfg, (list, tuple)):
        return [config_to_dict(v) for v in cfg]
    if isinstance(cfg, Path):
        return str(cfg)
    return cfg
