"""Live mode latency: the time from speech to the emotion shown, measured as the page works.

    nice python bench/live_bench.py [--seconds 30] [--busy 2] [--set live.update_s=1.0]

Serves the app (uvicorn on 127.0.0.1, the real models) and plays a recording into it in real
time, as app.js does: every `live.update_s` the audio spoken since the last send goes out as
16-bit PCM, one request at a time (a tick that finds one in flight is skipped). For every
answer: worst-case latency = answer time minus when the chunk's oldest sample was spoken (what
the issue's target, <= 2 s on 2 cores, is about); best case = minus its newest sample. Also how
often the transcript changed, when its first words came, and how it kept up: the answers that
said it was falling behind (untranscribed audio over 1.5 segments, or skipped), seconds skipped,
the ASR model at the end, and any stretch of over 10 s without new words that the page did not
announce. First, in this process, the wall and CPU time of a step's parts (SER of the emotion
window, live ASR of a segment). `--busy N` holds the cores with N busy loops at normal priority
while the recording plays (issue 21's load). The recording: RAVDESS clips of one
actor, one per emotion, from ../shared/data (else the bundled sample, repeated).
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SR = 16000


def recording(seconds: float) -> tuple[np.ndarray, str]:
    from emovc.core.audio import load_audio
    manifest = ROOT.parent / "shared" / "data" / "ravdess" / "manifest.csv"
    if manifest.is_file():
        import csv
        with manifest.open(newline="") as f:
            rows = [r for r in csv.DictReader(f) if r["speaker"] == "ravdess_01" and r["intensity"] == "normal"]
        by_emotion = {}
        for row in rows:
            by_emotion.setdefault(row["emotion"], row["path"])
        paths = [manifest.parent / p for p in by_emotion.values()]
        what = f"RAVDESS actor 1, {len(paths)} emotions in turn"
    else:
        paths, what = [ROOT / "samples" / "sample.wav"], "the bundled sample, repeated"
    clips = [load_audio(p, sr=SR)[0] for p in paths]
    wav = np.concatenate(clips)
    wav = np.tile(wav, int(np.ceil(seconds * SR / len(wav))))[: int(seconds * SR)]
    return wav, what


def play(url: str, wav: np.ndarray, update_s: float) -> tuple[list, list, list, list]:
    """Send `wav` in real time; (worst, best) latency per answer, (time, words) of the transcript,
    the answers."""
    import httpx
    client = httpx.Client(base_url=url, timeout=120)
    token = client.post("/api/session").json()["token"]
    client.post(f"/api/s/{token}/live/start").raise_for_status()
    pcm = (np.clip(wav, -1, 1) * 32767).astype("<i2")
    worst, best, words, states = [], [], [], []
    sent, tick, t0 = 0, 1, time.perf_counter()
    while sent < len(pcm):
        time.sleep(max(0.0, t0 + tick * update_s - time.perf_counter()))
        upto = min(len(pcm), int((time.perf_counter() - t0) * SR))
        answer = client.post(f"/api/s/{token}/live/chunk", content=pcm[sent:upto].tobytes())
        done = time.perf_counter() - t0
        answer.raise_for_status()
        worst.append(done - sent / SR)
        best.append(done - upto / SR)
        words.append((done, len(answer.json()["transcript"].split())))
        states.append(answer.json())
        sent = upto
        tick = int(done / update_s) + 1          # ticks missed while the request ran are skipped
    client.post(f"/api/s/{token}/live/stop").raise_for_status()
    return worst, best, words, states


def parts(app_config, detect_config, wav: np.ndarray) -> str:
    """Wall and CPU seconds of one live step's parts in this process: SER of the emotion window,
    live ASR of a segment."""
    import resource
    from emovc.asr import load_asr
    from emovc.convert import Converter
    converter = Converter(detect_config)
    converter.load(asr=False)
    live = app_config.live
    asr = load_asr(detect_config.asr.backend, detect_config.asr.model, detect_config.asr.language,
                   **live.asr_options)
    cpu = lambda: sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
    shown = []
    for name, step in [(f"SER of {live.emotion_window_s:g} s", lambda: converter.analyzer.emotion(
                            wav[: int(live.emotion_window_s * SR)])),
                       (f"live ASR of {live.segment_s:g} s", lambda: asr.transcribe(wav[: int(live.segment_s * SR)]))]:
        step()                                          # warm
        wall, used = time.perf_counter(), cpu()
        for _ in range(3):
            step()
        shown.append(f"{name}: {(time.perf_counter() - wall) / 3:.2f} s wall, {(cpu() - used) / 3:.2f} s CPU")
    return "; ".join(shown)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="how long to speak (default 30)")
    parser.add_argument("--busy", type=int, default=0, metavar="N",
                        help="busy loops at normal priority while the recording plays (default 0)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a key of configs/app.yaml, e.g. live.update_s=2")
    args = parser.parse_args()
    from emovc.core.config import load_config
    from emovc.convert import DetectConfig
    from emovc.web.config import AppConfig
    from emovc.web.server import create_app, serving
    config = load_config(ROOT / "configs" / "app.yaml", AppConfig, args.set)
    wav, what = recording(args.seconds)
    detect = load_config(config.detect, DetectConfig)
    print(f"one live step's parts, mean of 3: {parts(config, detect, wav)}")
    app = create_app(config, detect)
    with serving(app) as url:
        warm = time.perf_counter()
        import httpx
        token = httpx.post(f"{url}/api/session").json()["token"]     # waits for the models to load
        httpx.post(f"{url}/api/s/{token}/live/start", timeout=300).raise_for_status()
        httpx.post(f"{url}/api/s/{token}/live/chunk", content=b"\0\0" * SR, timeout=300)
        print(f"models loaded and warm in {time.perf_counter() - warm:.1f} s; playing {len(wav) / SR:.0f} s "
              f"of {what}, update every {config.live.update_s:g} s; load average before: "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        import subprocess
        loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.busy)]
        try:
            worst, best, words, states = play(url, wav, config.live.update_s)
        finally:
            for loop in loops:
                loop.kill()
        print(f"{args.busy} busy loops at normal priority held the cores while it played")
    q = lambda xs, p: sorted(xs)[min(len(xs) - 1, int(p * len(xs)))]
    print(f"speech -> emotion shown, worst sample of each chunk: median {statistics.median(worst):.2f} s, "
          f"p95 {q(worst, 0.95):.2f} s, max {max(worst):.2f} s ({len(worst)} updates)")
    print(f"speech -> emotion shown, newest sample of each chunk: median {statistics.median(best):.2f} s, "
          f"max {max(best):.2f} s")
    changes = [t for (t, n), (_, m) in zip(words[1:], words) if n != m]
    gaps = np.diff([0.0, *changes])
    print(f"transcript: {words[-1][1]} words before stop; changed {len(changes)} times, median gap "
          f"{np.median(gaps) if len(gaps) else float('nan'):.1f} s; load average after: {os.getloadavg()[0]:.1f}")
    segment = config.live.segment_s
    behind = [s["behind_s"] >= 1.5 * segment or s["skipped_s"] > 0 for s in states]
    first = next((t for t, n in words if n), None)
    last_change, silent_lag = 0.0, 0
    for (t, n), (_, m), said in zip(words, [(0.0, 0), *words], behind):
        last_change = t if n != m else last_change
        silent_lag += t - last_change > 10 and not said
    print(f"first words {'never' if first is None else f'after {first:.1f} s'}; falling behind said in "
          f"{sum(behind)} of {len(states)} answers; {states[-1]['skipped_s']:.0f} s skipped; ASR model at the "
          f"end: {states[-1]['asr_model']}; answers over 10 s without new words, unannounced: {silent_lag}")


if __name__ == "__main__":
    main()
