"""Speech to text: offline Whisper by default, pluggable backends, WER/CER evaluation.

    from emovc.asr import load_asr
    asr_model = load_asr("whisper", model="base", language="en")
    t = asr_model.transcribe("speech.flac")        # or a float32 mono waveform at 16 kHz
    t.text, t.language, t.segments
"""
from emovc.asr.transcribe import BACKENDS, NoSpeechWarning, Segment, Transcript, check_options, load_asr, transcribe
from emovc.asr import whisper, paddlespeech  # noqa: F401  (register the backends)

__all__ = ["BACKENDS", "NoSpeechWarning", "Segment", "Transcript", "check_options", "load_asr", "transcribe"]
