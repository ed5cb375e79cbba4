"""Long-audio benchmark: memory stays bounded however long the file is.

    nice python bench/asr_long.py --minutes 60                     # windowing (read + resample + VAD) only
    nice python bench/asr_long.py --minutes 5 --transcribe tiny.en  # full transcription, with WER

Builds a 44.1 kHz stereo WAV of RAVDESS sentences separated by 0.5-4 s pauses (written block by
block into a temporary folder), then streams it through `asr.windows.speech_windows` (or the
full `transcribe`) and prints peak memory (max RSS from getrusage), windows and timing.
"""
import argparse
import csv
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RAVDESS = ROOT.parent / "shared" / "data" / "ravdess"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(path: Path, minutes: float, sr: int = 44100) -> str:
    """Write the long file; return its reference text."""
    import soundfile as sf
    from emovc.core.audio import load_audio
    rows = list(csv.DictReader(open(RAVDESS / "manifest.csv", encoding="utf-8")))
    rng = np.random.default_rng(0)
    texts, written = [], 0
    with sf.SoundFile(path, "w", samplerate=sr, channels=2, subtype="PCM_16") as f:
        while written < minutes * 60 * sr:
            row = rows[rng.integers(len(rows))]
            wav, _ = load_audio(RAVDESS / row["path"], sr=sr)
            pause = np.zeros(int(rng.uniform(0.5, 4.0) * sr), np.float32)
            block = np.concatenate([wav, pause])
            f.write(np.stack([block, block], axis=1))
            written += len(block)
            texts.append(row["text"])
    return " ".join(texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--transcribe", metavar="MODEL", help="also transcribe with this Whisper model")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    from emovc.asr.windows import speech_windows
    from emovc.core.audio import Source
    with tempfile.TemporaryDirectory(prefix="asr-long-") as tmp:
        path = Path(tmp) / "long.wav"
        reference = build(path, args.minutes)
        before = peak_mb()
        start = time.perf_counter()
        if args.transcribe:
            from emovc.asr import load_asr
            from emovc.asr.evaluate import wer
            asr_model = load_asr("whisper", args.transcribe, "en", threads=args.threads)
            start = time.perf_counter()
            t = asr_model.transcribe(path)
            seconds = time.perf_counter() - start
            print(f"Whisper {args.transcribe}: {t.duration / 60:.1f} min, {len(t.segments)} segments, "
                  f"WER {100 * wer(reference, t.text):.2f} %, RTF {seconds / t.duration:.3f}")
        else:
            source = Source(path)
            windows = list((w.start, len(w.audio)) for w in speech_windows(source))
            seconds = time.perf_counter() - start
            print(f"{source.duration / 60:.1f} min at 44.1 kHz stereo -> {len(windows)} windows "
                  f"(longest {max(n for _, n in windows) / 16000:.1f} s) in {seconds:.1f} s")
        print(f"peak memory {peak_mb():.0f} MB (before reading the file: {before:.0f} MB)")


if __name__ == "__main__":
    main()
