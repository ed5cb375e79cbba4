"""What is in a recording: the voice's emotion, the words, their emotion, the emotion over time,
and pictures of them. Every entry point (detect.py, predict.py, timeline.py, app.py) asks here.

    from analysis import Analyzer
    a = Analyzer(config).analyse("talk.wav", timeline=True)
    a.emotion, a.transcript, a.text, a.fused, a.timeline.frame
"""
from analysis.analyzer import Analysis, Analyzer
from analysis.config import AsrConfig, SerConfig, TextConfig
from analysis.timeline import Timeline

__all__ = ["Analysis", "Analyzer", "AsrConfig", "SerConfig", "TextConfig", "Timeline"]
