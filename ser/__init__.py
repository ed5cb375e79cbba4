"""Speech emotion recognition: datasets, feature sets, models, evaluation and a recognizer.

    from ser import load_recognizer
    rec = load_recognizer("configs/multicorpus.yaml")
    rec.predict(wav, sr)   # -> Prediction(label, probabilities)
"""
from ser.data import load_dataset
from ser.features import FEATURES
from ser.models import MODELS, load_checkpoint, save_checkpoint
from ser.recognizer import Prediction, Recognizer, load_recognizer

__all__ = ["load_recognizer", "Recognizer", "Prediction", "load_dataset", "FEATURES", "MODELS",
           "load_checkpoint", "save_checkpoint"]
