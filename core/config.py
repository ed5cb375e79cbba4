"""The one place where YAML configs are loaded and validated.

A config is a tree of dataclasses (the schema). `load_config` reads YAML with `safe_load`,
applies `--set key.sub=value` overrides, and checks every key: an unknown key, a wrong type,
a missing required key or a missing file is a one-line ConfigError naming the file and key.
Relative paths are resolved against the current folder, then against the repository root.
"""
import dataclasses
import os
import types
import typing
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args, get_origin, get_type_hints

import yaml

from core.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
T = TypeVar("T")


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
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
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
    hints = get_type_hints(schema)
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
