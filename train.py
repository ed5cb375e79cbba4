#!/usr/bin/env python
"""Train and evaluate a speech-emotion model from an experiment config.

Evaluation is speaker-independent by default (grouped k-fold by speaker). Writes
results/<name>/{metrics.json, confusion.png, config.yaml} and the checkpoint.

    python train.py --config configs/example.yaml [--set train.epochs=5]
"""
import argparse
import logging

from core.cli import ArgumentParser, add_config_options, run


def main(argv=None):
    parser = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_config_options(parser, what="experiment YAML", example="model.params.C=1")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    from ser.config import load_experiment
    from ser.experiment import train_experiment
    cfg = load_experiment(args.config, args.set)
    result = train_experiment(cfg)
    print(f"{cfg.name}: accuracy {result['accuracy']:.3f}  UAR {result['uar']:.3f}  macro-F1 "
          f"{result['macro_f1']:.3f}  ({result['scheme']}, {result['folds']} folds, {result['clips']} clips, "
          f"{result['speakers']} speakers)")
    print(f"checkpoint: {result['checkpoint']}")


if __name__ == "__main__":
    run(main)
