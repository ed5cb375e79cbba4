"""detect.py's pipeline: recognise the emotion of a recording, transcribe it, speak it again."""
from convert.config import DetectConfig
from convert.outputs import OutputSlot
from convert.pipeline import Converter, Request, expand_inputs

__all__ = ["DetectConfig", "OutputSlot", "Converter", "Request", "expand_inputs"]
