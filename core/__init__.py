"""Shared foundation of the toolkit: audio I/O, configs, labels, registries, errors."""
from core.errors import UserError, AudioError, ConfigError
from core.audio import load_audio, save_audio, list_audio, AUDIO_EXTENSIONS
from core.config import load_config, config_to_dict
from core.labels import EMOTIONS, normalise_emotion
from core.registry import Registry

__all__ = [
    "UserError", "AudioError", "ConfigError",
    "load_audio", "save_audio", "list_audio", "AUDIO_EXTENSIONS",
    "load_config", "config_to_dict",
    "EMOTIONS", "normalise_emotion",
    "Registry",
]
