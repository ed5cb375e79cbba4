"""detect.py's pipeline: recognise the emotion of a recording, transcribe it, speak it again."""
from emovc.convert.config import DetectConfig
from emovc.convert.outputs import OutputSlot
from emovc.convert.pipeline import Converter, Request, expand_inputs

__all__ = ["DetectConfig", "OutputSlot", "Converter", "Request", "expand_inputs"]
