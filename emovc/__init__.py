"""emovc: emotion-aware voice conversion. Recognise the emotion in speech, transcribe it, and speak
the words again with another emotion and voice.

    import emovc
    config = emovc.load_config("configs/detect.yaml", emovc.DetectConfig)
    converter = emovc.Converter(config)
    analysis = converter.analyzer.analyse("talk.wav")     # emotion, words, the words' emotion
    report = converter.convert("talk.wav", emovc.Request("happy", "youngwoman"), "output")
    wav, sr = emovc.synthesize("Hello there.", "happy", "youngwoman")

The stages are subpackages (`emovc.ser`, `emovc.asr`, `emovc.tts`) over `emovc.core`; `emovc.analysis`
answers "what is in this recording", `emovc.convert` converts, `emovc.web` serves the app, and
`emovc.commands` holds the command-line programs. The names below load on first use, so a command's
`--help` imports nothing heavy.
"""
import importlib

_WHERE = {
    "Converter": "emovc.convert.pipeline",
    "Request": "emovc.convert.pipeline", "DetectConfig": "emovc.convert.config",
    "Analyzer": "emovc.analysis.analyzer", "Analysis": "emovc.analysis.analyzer",
    "load_recognizer": "emovc.ser.recognizer", "Recognizer": "emovc.ser.recognizer",
    "transcribe": "emovc.asr.transcribe", "load_asr": "emovc.asr.transcribe",
    "synthesize": "emovc.tts.speak", "render_emotion": "emovc.tts.render",
    "load_audio": "emovc.core.audio", "load_config": "emovc.core.config",
    "EMOTIONS": "emovc.core.labels", "Prediction": "emovc.core.labels",
}
__all__ = list(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'emovc' has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name]), name)
