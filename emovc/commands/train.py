"""Train and evaluate a speech-emotion model from an experiment config.

Evaluation is speaker-independent by default (grouped k-fold by speaker). Writes
results/<name>/{metrics.json, run.json, confusion.png, config.yaml} and the checkpoint;
run.json records config, seed, data manifest hash, git commit, per-fold and final scores.

    python train.py --config configs/example.yaml [--set train.epochs=5] [--log tensorboard --log mlflow]
    python train.py --config configs/svm.yaml --sweep model.params.C=0.1,1,10   # a grid, runs in parallel
"""
import argparse
import logging
import statistics

from emovc.core.cli import ArgumentParser, add_config_options, add_execution_options, execution_overrides, run


def main(argv=None):
    parser = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_config_options(parser, what="experiment YAML", example="model.params.C=1")
    parser.add_argument("--log", action="append", default=[], choices=["tensorboard", "mlflow", "wandb"],
                        help="also send the run to TensorBoard (results/<name>/tensorboard), MLflow "
                             "(results/mlruns, or $MLFLOW_TRACKING_URI) or W&B (optional extra); repeatable")
    parser.add_argument("--sweep", action="append", default=[], metavar="KEY=V1,V2,...|FILE.yaml",
                        help="run every combination as its own tracked run (repeatable; a YAML file holds "
                             "'grid: {key: [values]}') and print a leaderboard")
    add_execution_options(parser, workers="train.workers")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    from emovc.core.config import resolve_path
    from emovc.ser.config import load_experiment
    from emovc.ser.experiment import train_experiment
    from emovc.ser.tracking import check_trackers, leaderboard, parse_sweep, record_run, sweep
    overrides = args.set + execution_overrides(args, "train")
    if args.sweep:
        rows = sweep(str(resolve_path(args.config).resolve()), overrides, parse_sweep(args.sweep), args.log)
        print(leaderboard(rows))
        return
    cfg = load_experiment(args.config, overrides)
    check_trackers(args.log)
    result = train_experiment(cfg)
    record_run(cfg, result, args.log)
    print(f"{cfg.name}: accuracy {result['accuracy']:.3f}  UAR {result['uar']:.3f}  macro-F1 "
          f"{result['macro_f1']:.3f}  ({result['scheme']}, {result['folds']} folds, {result['clips']} clips, "
          f"{result['speakers']} speakers)")
    folds = result["fold_uar"]
    print(f"  fold UAR {statistics.fmean(folds):.3f} +- {statistics.pstdev(folds):.3f} "
          f"({' '.join(f'{u:.3f}' for u in folds)})")
    for corpus, uar in result.get("per_corpus", {}).items():
        print(f"  {corpus}: UAR {uar:.3f} (speaker-independent, in-corpus)")
    cal = result["calibration"]
    power = f" at the median novelty, times (novelty/median)^{cal['novelty_power']:.2f}" if cal.get("novelty_power") else ""
    print(f"calibration: {cal['method']} fitted on {cal['fitted_on']}, T={cal['temperature']:.2f}{power}; ECE on held-out "
          f"speakers {cal['ece_before']:.3f} -> {cal['ece']:.3f}" + (
              f", on held-out corpora (mean) {cal['held_out_corpora_mean_ece']:.3f}" if "held_out_corpora" in cal else ""))
    cross = result.get("cross_corpus")
    if cross:
        for corpus, r in cross.items():
            if isinstance(r, dict) and ("skipped" in r or "single_clip" in r):
                print(f"  {corpus}: " + (r["skipped"] if "skipped" in r else
                      f"left out, UAR {r['single_clip']['uar']:.3f} single clip, {r['speaker_norm']['uar']:.3f} per-speaker "
                      f"normalised; recall " + " ".join(f"{k} {v:.2f}" for k, v in r["single_clip"]["recall"].items())))
        print(f"leave-one-corpus-out: mean UAR {cross['mean_uar']:.3f} single clip, "
              f"{cross['mean_uar_speaker_norm']:.3f} per-speaker normalised; recall per label (mean over the "
              f"corpora that have it): " + " ".join(f"{k} {v:.2f}" for k, v in cross["class_recall"].items()))
    print(f"checkpoint: {result['checkpoint']}")


def entry() -> None:
    """`emovc-train` and `python train.py`."""
    run(main)
