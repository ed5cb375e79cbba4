"""emovc/analysis/plots.py, detect.py --plots and predict.py --plots: valid PNGs of real speech, never overwritten."""
import json
import subprocess
import sys

import matplotlib.image
import numpy as np
import pytest

from emovc.commands import predict
from emovc.core.audio import load_audio
from emovc.core.config import load_config
from emovc.core.errors import UserError
from emovc.convert import Converter, DetectConfig, Request
from emovc.analysis.plots import Clip, plot_clips, render_clips, write_png
from emovc.ser import Prediction

PNG = b"\x89PNG\r\n\x1a\n"


def _size(path):
    image = matplotlib.image.imread(path)
    return image.shape[1], image.shape[0]


def test_one_clip_and_side_by_side(ravdess_clip, tmp_path):
    wav, sr = load_audio(ravdess_clip)
    prediction = Prediction("angry", {"angry": 0.8, "sad": 0.2})
    one = plot_clips(tmp_path / "one.png", [Clip("input", wav, sr, prediction)])
    two = plot_clips(tmp_path / "two.png", [Clip("input", wav, sr, prediction), Clip("output", wav[::2], sr // 2)])
    assert one.read_bytes()[:8] == PNG and two.read_bytes()[:8] == PNG
    (w1, h1), (w2, h2) = _size(one), _size(two)
    assert h1 == h2 and w2 >= 1.9 * w1          # input and output side by side


def test_png_is_never_overwritten(tmp_path):
    target = tmp_path / "x.png"
    data = render_clips([Clip("tone", np.sin(np.arange(16000) / 5).astype(np.float32) * 0.3, 16000)])
    write_png(target, data)
    with pytest.raises(UserError, match="already exists"):
        write_png(target, b"other")
    assert target.read_bytes() == data
    assert write_png(target, data, numbered=True).name == "x-2.png"


def test_detect_plots_publishes_a_picture_with_the_output(ravdess_clip, tmp_path):
    converter = Converter(load_config("configs/detect.yaml", DetectConfig))
    report = converter.convert(ravdess_clip, Request("sad", "middlemale", check=False, plots=True), tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["1.json", "1.png", "1.wav"]
    assert report["plots"] == str(tmp_path / "1.png") and json.loads((tmp_path / "1.json").read_text()) == report
    assert (tmp_path / "1.png").read_bytes()[:8] == PNG and _size(tmp_path / "1.png")[0] >= 1000
    for key in ("text_emotion", "fused_emotion"):           # the words' emotion beside the voice's
        assert sum(report[key]["probabilities"].values()) == pytest.approx(1.0, abs=1e-3)


def test_predict_plots_beside_each_other_without_overwriting(ravdess_clip, tmp_path, capsys):
    predict.main([str(ravdess_clip), str(ravdess_clip), "--plots", str(tmp_path)])    # same name twice
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [f"{ravdess_clip.stem}-2.png", f"{ravdess_clip.stem}.png"]
    assert all((tmp_path / n).read_bytes()[:8] == PNG for n in names)


def test_matplotlib_is_not_imported_without_plots():
    code = "import sys, emovc.analysis.plots, emovc.analysis.timeline, emovc.ser.text; print('matplotlib' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr
