"""Speech emotion recognition: datasets, feature sets, models, evaluation and a recognizer.

    from emovc.ser import load_recognizer
    rec = load_recognizer("configs/multicorpus.yaml")
    rec.predict(wav, sr)   # -> Prediction(label, probabilities)
"""
from emovc.ser.data import load_dataset
from emovc.ser.features import FEATURES
from emovc.ser.models import MODELS, load_checkpoint, save_checkpoint
from emovc.ser.recognizer import Prediction, Recognizer, load_recognizer

__all__ = ["load_recognizer", "Recognizer", "Prediction", "load_dataset", "FEATURES", "MODELS",
           "load_checkpoint", "save_checkpoint"]
