"""A short seeded fuzz run over WAV headers and YAML configs (bounded: FUZZ_S seconds each).

Whatever the bytes, `load_audio` returns finite mono float32 in [-1, 1] or raises AudioError,
and `load_config` returns a validated config or raises ConfigError; anything else (another
exception, a crash) is a bug. The seed is fixed, so a failure names a case that reruns.
"""
import io
import random
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from emovc.convert.config import DetectConfig
from emovc.core.audio import load_audio
from emovc.core.config import load_config
from emovc.core.errors import AudioError, ConfigError

ROOT = Path(__file__).resolve().parents[1]
FUZZ_S = 20.0
SEED = 13


def _wav_bytes() -> bytes:
    buffer = io.BytesIO()
    tone = 0.3 * np.sin(np.arange(8000) / 7.0)
    sf.write(buffer, np.stack([tone, -0.5 * tone], axis=1), 16000, subtype="PCM_16", format="WAV")
    return buffer.getvalue()


def _mutate(data: bytes, rng: random.Random, head: int) -> bytes:
    """Flip, overwrite or cut bytes, mostly in the first `head` bytes (the header)."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        kind = rng.random()
        at = rng.randrange(min(head, len(out))) if out else 0
        if kind < 0.5 and out:
            out[at] = rng.randrange(256)
        elif kind < 0.7 and len(out) > at + 4:
            out[at:at + 4] = rng.choice([b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\x01\x00\x00\x80",
                                         rng.randbytes(4)])
        elif kind < 0.85:
            out = out[:rng.randrange(len(out) + 1)]
        else:
            out[at:at] = rng.randbytes(rng.randint(1, 16))
    return bytes(out)


def test_wav_headers(tmp_path):
    rng, data, deadline, tried = random.Random(SEED), _wav_bytes(), time.monotonic() + FUZZ_S, 0
    path = tmp_path / "fuzz.wav"
    while time.monotonic() < deadline:
        path.write_bytes(_mutate(data, rng, head=64))
        tried += 1
        try:
            wav, sr = load_audio(path)
        except AudioError:
            continue
        except Exception as e:
            pytest.fail(f"case {tried} (seed {SEED}): {type(e).__name__}: {e}")
        assert wav.dtype == np.float32 and wav.ndim == 1 and sr > 0, f"case {tried}"
        assert np.all(np.isfinite(wav)) and np.abs(wav).max(initial=0) <= 1.0, f"case {tried}"
    assert tried > 50


def test_yaml_configs(tmp_path):
    rng, deadline, tried = random.Random(SEED), time.monotonic() + FUZZ_S, 0
    text = (ROOT / "configs" / "detect.yaml").read_bytes()
    pieces = [b": ", b"\n", b"- ", b"[", b"{", b"!!python/object:os.system", b"&a ", b"*a", b"0x1", b"-5",
              b"1e309", b"~", b"'", b'"', b"\t", b"\xff", b"\x00", b"ser:", b"window_s: ", b"  "]
    path = tmp_path / "fuzz.yaml"
    while time.monotonic() < deadline:
        data = bytearray(text)
        for _ in range(rng.randint(1, 5)):
            at = rng.randrange(len(data) + 1)
            if rng.random() < 0.5:
                data[at:at] = rng.choice(pieces)
            else:
                del data[at:at + rng.randint(1, 20)]
        path.write_bytes(bytes(data))
        tried += 1
        try:
            cfg = load_config(path, DetectConfig)
        except ConfigError:
            continue
        except Exception as e:
            pytest.fail(f"case {tried} (seed {SEED}): {type(e).__name__}: {e}\n{bytes(data)!r}")
        assert isinstance(cfg, DetectConfig) and 1 <= cfg.window_s <= 600, f"case {tried}"
    assert tried > 50


def _hostile_value(rng: random.Random) -> str:
    """An alias bomb (up to 9 levels of 9 aliases), or lists and mappings nested up to 200,000 deep."""
    if rng.random() < 0.5:
        width, levels = rng.randint(2, 9), rng.randint(1, 9)
        value = "[&a0 [" + ",".join(["lol"] * width) + "]"
        for i in range(1, levels + 1):
            value += f", &a{i} [" + ",".join([f"*a{i - 1}"] * width) + "]"
        return value + "]"
    depth = rng.choice([rng.randint(1, 64), rng.randint(1, 200_000)])
    opening, closing = rng.choice([("[", "]"), ("{a: ", "}"), ("[{b: ", "}]")])
    return opening * depth + "1" + closing * depth


def test_yaml_aliases_and_deep_nesting(tmp_path):
    """Under any key, in a file or in --set: a one-line ConfigError of bounded length, at once
    (issue 20: an alias bomb ran for minutes and grew to GBs; deep nesting was a RecursionError)."""
    rng, deadline, tried = random.Random(SEED), time.monotonic() + FUZZ_S, 0
    keys = ["window_s", "ser.window_s", "tts.voices", "asr.model", "ser", "text.weight", "nokey"]
    path = tmp_path / "fuzz.yaml"
    while time.monotonic() < deadline:
        key, value = rng.choice(keys), _hostile_value(rng)
        overrides = []
        if rng.random() < 0.5:
            overrides = [f"{key}={value}"]
            path.write_text("ser:\n  config: configs/example.yaml\n")
        else:
            section, _, leaf = key.rpartition(".")
            line = f"{section}:\n  {leaf}: {value}\n" if section else f"{key}: {value}\n"
            path.write_text(("" if key.startswith("ser") else "ser:\n  config: configs/example.yaml\n") + line)
        tried += 1
        start = time.monotonic()
        try:
            load_config(path, DetectConfig, overrides)
        except ConfigError as e:
            message = str(e)
        except Exception as e:
            pytest.fail(f"case {tried} (seed {SEED}): {type(e).__name__}: {str(e)[:300]}")
        else:
            assert value.count("[") + value.count("{") <= 32 and "*" not in value, f"case {tried}"
            continue
        assert "\n" not in message and len(message) < 1000, f"case {tried}: {message[:300]}"
        assert time.monotonic() - start < 5, f"case {tried} took {time.monotonic() - start:.1f} s"
    assert tried > 20
