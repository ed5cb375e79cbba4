"""Extract and cache the features an experiment config needs (re-runs only fill what is missing).

    python preprocess.py --config configs/svm.yaml [--set data.sources=[my_data]]
    python preprocess.py --config configs/svm.yaml --scheduler tcp://10.0.0.5:8786   # on a Dask cluster
"""
import argparse
import logging

from emovc.core.cli import ArgumentParser, add_config_options, add_execution_options, execution_overrides, run


def main(argv=None):
    parser = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_config_options(parser, what="experiment YAML", example="train.workers=1")
    add_execution_options(parser, workers="train.workers")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    from emovc.ser.config import load_experiment
    from emovc.ser.experiment import prepare
    cfg = load_experiment(args.config, args.set + execution_overrides(args, "train"))
    df, X, sets = prepare(cfg)
    print(f"{len(X)} clips ready ({', '.join(s.name for s in sets)}; "
          f"{len(df['speaker'].unique())} speakers) in {cfg.output.cache}")


def entry() -> None:
    """`emovc-preprocess` and `python preprocess.py`."""
    run(main)
