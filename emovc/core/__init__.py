"""Shared foundation of the toolkit: audio I/O, configs, labels, registries, errors.

The names below load on first use, so `core.cli` (argument parsing) stays light for `--help`.
"""
import importlib

_WHERE = {
    "UserError": "emovc.core.errors", "AudioError": "emovc.core.errors", "ConfigError": "emovc.core.errors",
    "load_audio": "emovc.core.audio", "save_audio": "emovc.core.audio", "list_audio": "emovc.core.audio",
    "AUDIO_EXTENSIONS": "emovc.core.audio",
    "load_config": "emovc.core.config", "config_to_dict": "emovc.core.config",
    "EMOTIONS": "emovc.core.labels", "normalise_emotion": "emovc.core.labels",
    "Registry": "emovc.core.registry",
}
__all__ = list(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'emovc.core' has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name]), name)
