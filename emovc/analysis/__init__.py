"""What is in a recording: the voice's emotion, the words, their emotion, the emotion over time,
and pictures of them. Every entry point (detect.py, predict.py, timeline.py, app.py) asks here.

    from emovc.analysis import Analyzer
    a = Analyzer(config).analyse("talk.wav", timeline=True)
    a.emotion, a.transcript, a.text, a.fused, a.timeline.frame
"""
from emovc.analysis.analyzer import Analysis, Analyzer
from emovc.analysis.config import AsrConfig, SerConfig, TextConfig
from emovc.analysis.timeline import Timeline

__all__ = ["Analysis", "Analyzer", "AsrConfig", "SerConfig", "TextConfig", "Timeline"]
