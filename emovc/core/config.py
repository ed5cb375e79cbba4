"""The one place where YAML configs are loaded and validated.

A config is a tree of dataclasses (the schema). `load_config` reads YAML with `safe_load`
(aliases and nesting deeper than MAX_DEPTH refused), applies `--set key.sub=value` overrides, and
checks every key: an unknown key, a wrong type, a missing required key, a number out of its
`Range` or a missing file is a one-line ConfigError naming the file (or the option that set the
key) and the key, quoting at most MAX_EXCERPT characters of the value. Files are read as bytes first (`read_text`): too large, or not UTF-8,
is an error too. Relative paths are resolved against the current folder, then against where the shipped
configs and checkpoints are (`core.paths.BASES`: the repository, or the installed package).
"""
import dataclasses
import os
import re
import reprlib
import types
import typing
from pathlib import Path
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar, get_args, get_origin, get_type_hints

import yaml

from emovc.core.errors import ConfigError

from emovc.core.paths import BASES
T = TypeVar("T")
MAX_CONFIG_BYTES = 1 << 20          # a config is a page of YAML; anything larger is a mistake
MAX_MANIFEST_BYTES = 64 << 20       # a manifest of a million clips
MAX_DEPTH = 32                      # nesting of lists and mappings; the schemas need 5
MAX_EXCERPT = 200                   # characters of a value an error message quotes
_EXCERPT = reprlib.Repr()
_EXCERPT.maxlevel, _EXCERPT.maxstring = 2, MAX_EXCERPT


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
    """Relative paths: the current folder first, else the project's (`configs/…`, `checkpoints/…` and
    `emovc/…`, as they sit in a clone; core.paths.BASES)."""
    p = Path(value).expanduser()
    if p.is_absolute() or p.exists():
        return p
    return next((base / p for base in BASES if (base / p).exists()), p)


def load_config(path: str | os.PathLike, schema: type[T], overrides: list[str] | tuple = ()) -> T:
    """Load `path` as `schema`, applying overrides of the form 'section.key=value'."""
    path = resolve_path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found; see configs/ for examples")
    text = read_text(path, "config", MAX_CONFIG_BYTES)
    try:
        data = parse_yaml(text, str(path))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}:{where} not valid YAML ({getattr(e, 'problem', e)})") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping of keys to values")
    given = {}          # the keys set on the command line, and by which option
    for item in overrides:
        key = apply_override(data, item, path)
        given[key] = getattr(item, "origin", f"--set {key[:MAX_EXCERPT]}")
    return from_dict(schema, data, str(path), given=given)


class Override(str):
    """A 'key=value' override that came from another option (e.g. --workers): errors name `origin`."""

    def __new__(cls, item: str, origin: str):
        self = super().__new__(cls, item)
        self.origin = origin
        return self

    def __reduce__(self):           # pickled to Dask workers (train.py --sweep)
        return Override, (str(self), self.origin)


def parse_yaml(text: str, source: str) -> Any:
    """`yaml.safe_load`, refusing aliases (a few KB of them expand to gigabytes) and nesting deeper
    than MAX_DEPTH (it would exhaust the stack) with a ConfigError; syntax errors are YAMLError."""
    depth, lines = 0, "\n" in text.strip()
    for event in yaml.parse(text, Loader=yaml.SafeLoader):     # the parser itself does not recurse
        where = f"{source}: line {event.start_mark.line + 1}:" if lines else f"{source}:"
        if isinstance(event, yaml.AliasEvent):
            raise ConfigError(f"{where} YAML alias '*{event.anchor[:MAX_EXCERPT]}' not allowed in a config; "
                              f"write the value out in full")
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise ConfigError(f"{where} lists or mappings nested more than {MAX_DEPTH} levels deep; "
                                  f"is this the right file?")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return yaml.safe_load(text)


def excerpt(value: Any) -> str:
    """A bounded repr of a value for an error message (a huge or deeply nested value is cut short)."""
    text = _EXCERPT.repr(value)
    return text if len(text) <= MAX_EXCERPT else text[:MAX_EXCERPT - 3] + "..."


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


def apply_override(data: dict, item: str, source: Path | str = "--set") -> str:
    """Set 'a.b.c=value' in `data` and return the key; the value is parsed as YAML (numbers,
    lists, booleans)."""
    key, sep, raw = item.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set {excerpt(item)}: expected KEY=VALUE, e.g. train.epochs=5")
    try:
        value = parse_yaml(raw, f"--set {key.strip()[:MAX_EXCERPT]}")
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
    return key.strip()


def from_dict(schema: type[T], data: Any, source: str, prefix: str = "", given: dict[str, str] | None = None) -> T:
    """Build dataclass `schema` from a mapping, validating every key and type. `given` maps the
    keys set on the command line to the option that set them, which errors then name instead
    of `source`."""
    given = given or {}
    if not isinstance(data, dict):
        where = _source(source, given, prefix)
        raise ConfigError(f"{where}: key '{prefix.rstrip('.') or '<top>'}' must be a mapping")
    fields = {f.name: f for f in dataclasses.fields(schema)}
    hints = get_type_hints(schema, include_extras=True)
    unknown = [k for k in data if k not in fields]
    if unknown:
        key = f"{prefix}{unknown[0]}"[:MAX_EXCERPT]
        raise ConfigError(f"{_source(source, given, key)}: unknown key '{key}'; valid keys here: "
                          f"{', '.join(fields)}")
    values = {}
    for name, field in fields.items():
        key = prefix + name
        if name in data:
            values[name] = _check(hints[name], data[name], _source(source, given, key), key, given)
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise ConfigError(f"{source}: missing required key '{key}'")
    try:
        return schema(**values)     # a schema's __post_init__ checks ranges and combinations
    except ConfigError as e:
        raise ConfigError(f"{source}: {e}") from None


def _source(source: str, given: dict[str, str], key: str) -> str:
    """Who set `key`: the command-line option that set it or a section above it, else `source`."""
    parts = key.rstrip(".").split(".")
    return next((given[k] for i in range(len(parts), 0, -1) if (k := ".".join(parts[:i])) in given), source)


def _check(tp: Any, value: Any, source: str, key: str, given: dict[str, str]) -> Any:
    origin, args = get_origin(tp), get_args(tp)
    if origin is Annotated:
        value = _check(args[0], value, source, key, given)
        for allowed in tp.__metadata__:
            if isinstance(allowed, Range) and value is not None and not allowed.contains(value):
                raise ConfigError(f"{source}: key '{key}' is {excerpt(value)}; allowed: {allowed}")
        return value
    if dataclasses.is_dataclass(tp):
        return from_dict(tp, value if value is not None else {}, source, key + ".", given)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for option in (a for a in args if a is not type(None)):
            try:
                return _check(option, value, source, key, given)
            except ConfigError as e:
                errors.append(e)
        raise errors[0]
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"{source}: key '{key}' is {excerpt(value)}; choose one of: "
                              f"{', '.join(map(str, args))}")
        return value
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{source}: key '{key}' must be a list, got {excerpt(value)}")
        return [_check(args[0], v, source, f"{key}[{i}]", given) for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{source}: key '{key}' must be a mapping, got {excerpt(value)}")
        return {_check(args[0], k, source, key, given): _check(args[1], v, source, f"{key}.{k}", given)
                for k, v in value.items()}
    if tp is Any:
        return value
    if tp is ExistingPath:
        if not isinstance(value, str):
            raise ConfigError(f"{source}: key '{key}' must be a path, got {excerpt(value)}")
        p = resolve_path(value)
        if not p.exists():
            raise ConfigError(f"{source}: key '{key}': file or folder {excerpt(value)} not found")
        return ExistingPath(p)
    if tp is Path:
        if not isinstance(value, str):
            raise ConfigError(f"{source}: key '{key}' must be a path, got {excerpt(value)}")
        return Path(value)
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp is float and isinstance(value, str) and re.fullmatch(r"[-+]?\d+(\.\d*)?[eE][-+]?\d+", value.strip()):
        return float(value)             # YAML 1.1 reads 1e-4 (no dot) as a string
    if tp in (int, float, str, bool):
        if not isinstance(value, tp) or (tp is int and isinstance(value, bool)):
            raise ConfigError(f"{source}: key '{key}' must be {tp.__name__}, got {excerpt(value)}")
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
