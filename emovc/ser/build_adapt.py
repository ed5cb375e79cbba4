"""Write the training emotions' means (`adapt.npz`, what the `anchored` session adaptation needs)
into a config's checkpoint, from the cached features as in training:

    python -m emovc.ser.build_adapt --config configs/multicorpus.yaml
"""
import numpy as np

from emovc.core.cli import ArgumentParser
from emovc.core.config import resolve_path
from emovc.ser.adapt import MEANS, class_means, save_class_means
from emovc.ser.config import load_experiment
from emovc.ser.experiment import prepare
from emovc.ser.recognizer import load_recognizer


def main(argv=None) -> None:
    """python -m emovc.ser.build_adapt --config CONFIG: write the training emotions' means into the config's
    checkpoint (what `anchored` needs; the features come from the cache, as in training)."""
    parser = ArgumentParser(prog="python -m emovc.ser.build_adapt", description=main.__doc__)
    parser.add_argument("--config", default="configs/multicorpus.yaml")
    args = parser.parse_args(argv)
    cfg = load_experiment(args.config)
    rec = load_recognizer(args.config)
    df, X, _ = prepare(cfg)
    y = np.array([rec.labels.index(e) for e in df["emotion"]])
    folder = resolve_path(cfg.output.checkpoint)
    save_class_means(folder, class_means(X, y, df["corpus"].astype(str).to_numpy(), *rec.model.input_stats(),
                                         len(rec.labels)))
    print(f"wrote {folder / MEANS}")


if __name__ == "__main__":
    from emovc.core.cli import run
    run(main)
