"""Speaker similarity for keep-voice: the cosine between speaker embeddings of two recordings.

The encoder is Resemblyzer's GE2E d-vector model (256 dimensions; its weights ship inside the
PyPI package, nothing is downloaded). It is an optional bench dependency:

    pip install -r bench/requirements-bench.txt      # resemblyzer + torch (the CPU build is enough)
"""
import warnings

import numpy as np

INSTALL = "pip install -r bench/requirements-bench.txt (resemblyzer with a CPU torch)"
ENCODER = "Resemblyzer GE2E speaker embedding"


def embed(clips: list[tuple[np.ndarray, int]]) -> np.ndarray:
    """One speaker embedding per (waveform, sample rate); ImportError naming the install when missing."""
    try:
        with warnings.catch_warnings():          # webrtcvad's pkg_resources deprecation notice
            warnings.simplefilter("ignore", UserWarning)
            from resemblyzer import VoiceEncoder, preprocess_wav
    except ImportError as e:
        raise ImportError(f"speaker similarity needs resemblyzer ({e}); install it with: {INSTALL}") from None
    encoder = VoiceEncoder("cpu", verbose=False)
    return np.stack([encoder.embed_utterance(preprocess_wav(np.asarray(w, np.float32), source_sr=sr))
                     for w, sr in clips])


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine similarity of two equally long stacks of embeddings."""
    a, b = np.atleast_2d(a), np.atleast_2d(b)
    return np.sum(a * b, 1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1) + 1e-12)


def between_speakers(emb: np.ndarray, speakers) -> np.ndarray:
    """Cosines of every pair of embeddings whose speakers differ."""
    speakers = list(speakers)
    i, j = np.triu_indices(len(speakers), 1)
    keep = np.array([speakers[a] != speakers[b] for a, b in zip(i, j)], dtype=bool)
    return cosines(emb[i[keep]], emb[j[keep]]) if keep.any() else np.empty(0)
