"""Emotional speech synthesis: offline voices x 8 emotions over pluggable engines.

    from emovc.tts import synthesize, render_emotion
    wav, sr = synthesize("Hello there.", emotion="happy", voice="youngwoman", intensity="strong")
    wav2 = render_emotion(wav, sr, emotion="sad")     # any recording, any speaker or sample rate
"""
from emovc.tts.engines import ENGINES
from emovc.tts.profiles import parse_intensity
from emovc.tts.render import render_emotion
from emovc.tts.speak import resolve_engine, synthesize, synthesize_stream
from emovc.tts.voices import VOICES, voice_names, with_voices

__all__ = ["synthesize", "synthesize_stream", "resolve_engine", "render_emotion", "VOICES", "ENGINES", "voice_names", "parse_intensity", "with_voices"]
