"""Shared foundation of the toolkit: audio I/O, configs, labels, registries, errors.

The names below load on first use, so `core.cli` (argument parsing) stays light for `--help`.
"""
import importlib

_WHERE = {
    "UserError": "core.errors", "AudioError": "core.errors", "ConfigError": "core.errors",
    "load_audio": "core.audio", "save_audio": "core.audio", "list_audio": "core.audio",
    "AUDIO_EXTENSIONS": "core.audio",
    "load_config": "core.config", "config_to_dict": "core.config",
    "EMOTIONS": "core.labels", "normalise_emotion": "core.labels",
    "Registry": "core.registry",
}
__all__ = list(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'core' has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name]), name)
