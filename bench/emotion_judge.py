"""An emotion judge independent of the project's recogniser, for scoring synthetic speech.

ComParE_2016 functionals (openSMILE, 6373 features; the shipped recogniser uses Whisper and
eGeMAPS, not these) and an RBF-SVM trained on all of RAVDESS (8 emotions, 24 actors). Two
variants: `speaker` standardises each actor's clips by that actor's statistics (and is applied
to one voice's renderings standardised together), `global` standardises over the corpus (and
is applied to each file alone). Nothing is trained on the project's own TTS output.

The ceiling of a bench run is the same judge on real emotional speech of held-out speakers,
selected like the run (its emotions, its intensity): `synthesis_ceiling` (speaker-independent
6-fold over the actors) and `keep_voice_ceiling` (the real takes of actors 21-24 behind the
keep-voice sources, judged by judges trained on actors 1-20).

    nice python bench/emotion_judge.py      # speaker-independent 6-fold UAR + confusion of both variants

The judges know RAVDESS's two statements only; `esd_ceiling` measures them on ESD's real takes (a
speaker and sentences they never heard), the ceiling for a synthesis run of new sentences.

The RAVDESS features are cached in cache/features/ (first run: about 10 minutes on 2 cores), the
ceilings' labelled takes in cache/judge/.
"""
import sys
from collections import Counter
from functools import lru_cache
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from emovc.core.paths import ROOT  # noqa: E402
from emovc.core.labels import EMOTIONS  # noqa: E402

RAVDESS = ROOT.parent / "shared" / "data" / "ravdess"
ESD = ROOT.parent / "shared" / "data" / "esd"
ESD_EMOTIONS = ("neutral", "happy", "sad", "angry", "surprised")
ESD_GROUP = 12                    # sentences per standardised group: one voice of a 12-sentence bench run
CEILING_CACHE = ROOT / "cache" / "judge"
C = 10.0
HELD_OUT = 20                     # actors above this number are the keep-voice speakers
HIGH_AROUSAL = ("angry", "happy", "fearful", "surprised")


def compare_features(wavs16: list[np.ndarray]) -> np.ndarray:
    from emovc.ser.features import FEATURES, extract_wave
    fs = FEATURES.get("compare")()
    return np.stack([extract_wave([fs], w) for w in wavs16])


@lru_cache(maxsize=1)
def ravdess_rows() -> list[dict]:
    """The RAVDESS manifest rows (path, speaker, emotion, intensity, text, ...; do not modify them)."""
    import csv
    with (RAVDESS / "manifest.csv").open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@lru_cache(maxsize=1)
def ravdess_table() -> tuple[np.ndarray, list[dict]]:
    """(ComParE features, manifest rows) of every readable RAVDESS clip (do not modify them)."""
    from emovc.ser.features import FEATURES, extract_files
    rows = ravdess_rows()
    feats, failures = extract_files([FEATURES.get("compare")()], [RAVDESS / r["path"] for r in rows])
    keep = [i for i, x in enumerate(feats) if x is not None]
    return np.stack([feats[i] for i in keep]), [rows[i] for i in keep]


def ravdess() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ComParE features, emotion labels, actor ids) of every RAVDESS clip."""
    x, rows = ravdess_table()
    return x, np.array([r["emotion"] for r in rows]), np.array([r["speaker"] for r in rows])


def standardise(x: np.ndarray, groups: np.ndarray | None = None) -> np.ndarray:
    """z-scores over all rows, or within each group (speaker / voice) when `groups` is given."""
    groups = np.zeros(len(x)) if groups is None else np.asarray(groups)
    out = np.empty_like(x, dtype=np.float64)
    for g in np.unique(groups):
        rows = groups == g
        out[rows] = (x[rows] - x[rows].mean(0)) / (x[rows].std(0) + 1e-8)
    return out


class Judge:
    """`speaker`: fit on per-actor z-scores, `classify` a group of clips of one voice standardised
    together. `global`: fit on corpus z-scores, classify files one by one with the corpus scaler."""

    def __init__(self, x: np.ndarray, y: np.ndarray, speakers: np.ndarray, mode: str):
        from sklearn.svm import SVC
        self.mode = mode
        self.mean, self.std = x.mean(0), x.std(0) + 1e-8
        z = standardise(x, speakers) if mode == "speaker" else (x - self.mean) / self.std
        self.model = SVC(kernel="rbf", C=C, gamma="scale", decision_function_shape="ovr").fit(z, y)
        self.classes = list(self.model.classes_)

    def scores(self, x: np.ndarray) -> np.ndarray:
        """One row of per-emotion decision scores per clip (columns: `self.classes`)."""
        z = standardise(x) if self.mode == "speaker" else (x - self.mean) / self.std
        return self.model.decision_function(z)

    def classify(self, x: np.ndarray) -> list[str]:
        return [self.classes[i] for i in self.scores(x).argmax(1)]


@lru_cache(maxsize=2)
def judges(held_out_actors: bool) -> tuple[Judge, Judge]:
    """(per-voice, per-file) judges on all of RAVDESS, or on actors 1-20 with `held_out_actors`."""
    x, y, speakers = ravdess()
    if held_out_actors:
        train = np.array([actor(s) <= HELD_OUT for s in speakers])
        x, y, speakers = x[train], y[train], speakers[train]
    return Judge(x, y, speakers, "speaker"), Judge(x, y, speakers, "global")


def label(clips: list[dict], feats: np.ndarray, per_voice: Judge, per_file: Judge) -> None:
    """Adds 'judge_file' (each file alone), 'judge_voice' (each voice's clips standardised together)
    and the per-voice score of every emotion ('judge_score') to each clip dict (keyed by 'voice')."""
    for c, judged in zip(clips, per_file.classify(feats)):
        c["judge_file"] = judged
    by_voice: dict[str, list[int]] = {}
    for i, c in enumerate(clips):
        by_voice.setdefault(c["voice"], []).append(i)
    for idx in by_voice.values():
        for i, row in zip(idx, per_voice.scores(feats[idx])):
            clips[i]["judge_voice"] = per_voice.classes[int(row.argmax())]
            clips[i]["judge_score"] = {e: float(v) for e, v in zip(per_voice.classes, row)}


def recall(clips, key, emotions) -> float:
    """Share recognised, averaged over the requested emotions (chance 1/8)."""
    return float(np.mean([np.mean([c[key] == e for c in clips if c["emotion"] == e]) for e in emotions]))


def pairwise(clips) -> tuple[float, int]:
    """Share of (voice, sentence, high-arousal emotion) where the judge scores the emotion higher on
    its rendering than on the neutral rendering of the same sentence, and how many pairs."""
    neutral = {(c["voice"], c["text"], c.get("source")): c for c in clips if c["emotion"] == "neutral"}
    wins = [c["judge_score"][c["emotion"]] > neutral[key]["judge_score"][c["emotion"]]
            for c in clips if c["emotion"] in HIGH_AROUSAL
            and (key := (c["voice"], c["text"], c.get("source"))) in neutral]
    return (float(np.mean(wins)) if wins else float("nan")), len(wins)


def figures(clips, emotions) -> dict[str, float]:
    """The judge's figures of labelled clips: 'voice' and 'file' recall, 'pairwise' share and 'pairs'."""
    share, n = pairwise(clips)
    return {"voice": recall(clips, "judge_voice", emotions), "file": recall(clips, "judge_file", emotions),
            "pairwise": share, "pairs": n}


def with_ceiling(value: float, ceiling: float, percent: bool = False) -> str:
    """'value (ceiling X, ratio Y)': a judge figure beside the same judge's figure on real speech."""
    show = (lambda v: f"{100 * v:.1f} %") if percent else (lambda v: f"{v:.3f}")
    if not np.isfinite(value):
        return "n/a"
    if not np.isfinite(ceiling) or ceiling <= 0:
        return f"{show(value)} (ceiling n/a)"
    return f"{show(value)} (ceiling {show(ceiling)}, ratio {value / ceiling:.2f})"


def actor(speaker: str) -> int:
    """RAVDESS actor number of a speaker id ('ravdess_21' -> 21)."""
    return int(speaker[-2:])


def repetition(row: dict) -> str:
    """RAVDESS repetition field of a row's file name (modality-channel-emotion-intensity-statement-repetition-actor)."""
    return Path(row["path"]).stem.split("-")[5]


def corpus_intensity(intensity: str | float) -> str:
    """The RAVDESS level nearest a run's intensity: 'normal' (0.5) or 'strong' (1.0)."""
    from emovc.tts.profiles import parse_intensity
    return "strong" if parse_intensity(intensity) >= 0.75 else "normal"


def ceiling_selection(rows: list[dict], emotions, intensity: str | float) -> np.ndarray:
    """Mask of the rows a synthesis ceiling is measured on: the requested emotions at the run's
    intensity (neutral, recorded only at normal intensity, whatever the run's)."""
    level = corpus_intensity(intensity)
    return np.array([r["emotion"] in emotions and (r["emotion"] == "neutral" or r["intensity"] == level)
                     for r in rows], dtype=bool)


def keep_voice_sources(rows: list[dict], n: int) -> list[dict]:
    """The `n` neutral takes of actors 21-24 that keep-voice renders, spread over the actors."""
    rows = [r for r in rows if r["emotion"] == "neutral" and actor(r["speaker"]) > HELD_OUT]
    return sorted(rows, key=lambda r: (r["path"][-9:], r["speaker"]))[:n]


def real_takes(rows: list[dict], sources: list[dict], emotions, intensity: str | float) -> list[tuple[dict, dict]]:
    """(source, take) for each source and requested emotion: the same actor's real take of the same
    sentence and repetition at the run's intensity (the source itself for neutral); missing takes are left out."""
    level = corpus_intensity(intensity)
    index = {(r["speaker"], r["text"], repetition(r), r["emotion"], r["intensity"]): r for r in rows}
    pairs = []
    for s in sources:
        for e in emotions:
            take = s if e == "neutral" else index.get((s["speaker"], s["text"], repetition(s), e, level))
            if take is not None:
                pairs.append((s, take))
    return pairs


def _cached_clips(kind: str, key: dict, compute) -> list[dict]:
    """Labelled clips from cache/judge/, keyed by `key` and the feature matrix, else `compute()` stored there."""
    import hashlib
    import json
    x, _ = ravdess_table()
    digest = hashlib.sha1(json.dumps({**key, "C": C}, sort_keys=True).encode() + x.tobytes()).hexdigest()[:16]
    path = CEILING_CACHE / f"{kind}-{digest}.json"
    if path.is_file():
        return json.loads(path.read_text())
    clips = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(clips))
    tmp.replace(path)
    return clips


def _take(row: dict, source: str) -> dict:
    return {"voice": row["speaker"], "emotion": row["emotion"], "text": row["text"], "source": source,
            "path": row["path"]}


def synthesis_ceiling(emotions, intensity: str | float, folds: int = 6) -> list[dict]:
    """Real takes of the requested emotions at the run's intensity, labelled speaker-independently
    (`folds`-fold over the actors): each held-out actor's takes standardised together per voice, each
    file alone per file. `figures(...)` of them is the synthesis run's ceiling."""
    def compute():
        from sklearn.model_selection import GroupKFold
        x, y, speakers = ravdess()
        _, rows = ravdess_table()
        chosen = ceiling_selection(rows, emotions, intensity)
        clips = []
        for train, test in GroupKFold(folds).split(x, y, speakers):
            test = test[chosen[test]]
            fold = [_take(rows[i], repetition(rows[i])) for i in test]
            label(fold, x[test], Judge(x[train], y[train], speakers[train], "speaker"),
                  Judge(x[train], y[train], speakers[train], "global"))
            clips += fold
        return clips
    return _cached_clips("synthesis", {"emotions": sorted(emotions), "intensity": corpus_intensity(intensity),
                                       "folds": folds}, compute)


def keep_voice_ceiling(n: int, emotions, intensity: str | float) -> list[dict]:
    """The real takes behind `n` keep-voice sources (`real_takes`), labelled by the judges trained on
    actors 1-20 (per voice: each actor's takes standardised together). `figures(...)` of them is the
    keep-voice run's ceiling; each clip's 'source' is its neutral source's path."""
    def compute():
        x, readable = ravdess_table()
        rows = ravdess_rows()
        where = {r["path"]: i for i, r in enumerate(readable)}
        clips = [_take(take, source["path"]) for source, take in
                 real_takes(rows, keep_voice_sources(rows, n), emotions, intensity) if take["path"] in where]
        label(clips, x[[where[c["path"]] for c in clips]], *judges(held_out_actors=True))
        return clips
    return _cached_clips("keep-voice", {"n": n, "emotions": sorted(emotions),
                                        "intensity": corpus_intensity(intensity)}, compute)


def esd_takes(rows: list[dict], emotions, group: int = ESD_GROUP) -> list[dict]:
    """ESD manifest `rows` -> clips of the requested emotions ESD has: the sentences said in every one
    of them, shuffled (seed 0) into groups ('voice') of `group` sentences; a last, smaller group is left out."""
    present = [e for e in ESD_EMOTIONS if e in emotions]
    by_text: dict[str, dict[str, dict]] = {}
    for r in rows:
        if r["emotion"] in present:
            by_text.setdefault(r["text"], {})[r["emotion"]] = r
    texts = sorted(t for t, takes in by_text.items() if len(takes) == len(present))
    texts = [texts[i] for i in np.random.default_rng(0).permutation(len(texts))]
    return [{"voice": f"esd-{i // group}", "emotion": e, "text": t, "path": by_text[t][e]["path"]}
            for i, t in enumerate(texts[:len(texts) // group * group]) for e in present]


def esd_ceiling(emotions, group: int = ESD_GROUP) -> list[dict]:
    """`esd_takes` of ESD (one English speaker, sentences the judges never heard) labelled by the judges
    trained on all of RAVDESS: per voice each group standardised together (like one voice of a
    synthesis run), per file each file alone. The ceiling for a synthesis run's new sentences; only
    ESD's emotions (neutral, happy, sad, angry, surprised) have one."""
    def compute():
        import csv
        from emovc.ser.features import FEATURES, extract_files
        with (ESD / "manifest.csv").open(newline="", encoding="utf-8") as f:
            clips = esd_takes(list(csv.DictReader(f)), emotions, group)
        feats, _ = extract_files([FEATURES.get("compare")()], [ESD / c["path"] for c in clips])
        clips = [c for c, f in zip(clips, feats) if f is not None]
        label(clips, np.stack([f for f in feats if f is not None]), *judges(held_out_actors=False))
        return clips
    return _cached_clips("esd", {"emotions": sorted(e for e in emotions if e in ESD_EMOTIONS), "group": group}, compute)


def cross_validate(x, y, speakers, mode: str, folds: int = 6) -> tuple[float, np.ndarray]:
    """Speaker-independent UAR and confusion matrix (rows: true, columns: predicted, EMOTIONS order)."""
    from sklearn.model_selection import GroupKFold
    predicted = np.empty(len(y), dtype=object)
    for train, test in GroupKFold(folds).split(x, y, speakers):
        judge = Judge(x[train], y[train], speakers[train], mode)
        if mode == "speaker":
            for s in np.unique(speakers[test]):
                rows = test[speakers[test] == s]
                predicted[rows] = judge.classify(x[rows])
        else:
            predicted[test] = judge.classify(x[test])
    matrix = np.array([[np.sum((y == t) & (predicted == p)) for p in EMOTIONS] for t in EMOTIONS])
    return float(np.mean(np.diag(matrix) / matrix.sum(1))), matrix


def format_confusion(matrix: np.ndarray, rows: list[str] = EMOTIONS) -> str:
    lines = ["requested \\ judged " + " ".join(f"{e[:5]:>5}" for e in EMOTIONS)]
    lines += [f"{r:>18} " + " ".join(f"{v:5d}" for v in row) for r, row in zip(rows, matrix)]
    return "\n".join(lines)


def main() -> None:
    x, y, speakers = ravdess()
    print(f"RAVDESS: {len(y)} clips, {len(set(speakers))} actors, ComParE_2016 {x.shape[1]} features, RBF-SVM C={C:g}")
    for mode in ("speaker", "global"):
        uar, matrix = cross_validate(x, y, speakers, mode)
        print(f"\n{mode}-standardised, speaker-independent 6-fold: UAR {uar:.3f}\n"
              + format_confusion(matrix).replace("requested", "true"))
    print("\nceiling of a synthesis bench run over all 8 emotions (the real takes of its intensity, 6-fold):")
    for intensity in ("normal", "strong"):
        f = figures(synthesis_ceiling(EMOTIONS, intensity), EMOTIONS)
        print(f"{intensity:>7}: per voice {f['voice']:.3f}, per file {f['file']:.3f}, "
              f"high-arousal above neutral {100 * f['pairwise']:.1f} % of {f['pairs']} pairs")
    if (ESD / "manifest.csv").is_file():
        emotions = list(ESD_EMOTIONS)
        print(f"\nthe same judges (all of RAVDESS) over ESD's emotions ({', '.join(emotions)}): RAVDESS's held-out "
              f"actors (6-fold) against ESD, a speaker and sentences they never heard ({ESD_GROUP}-sentence groups):")
        for name, clips in (("RAVDESS", synthesis_ceiling(emotions, "normal")), ("ESD", esd_ceiling(emotions))):
            f = figures(clips, emotions)
            top, count = Counter(c["judge_file"] for c in clips).most_common(1)[0]
            print(f"{name:>7}: per voice {f['voice']:.3f}, per file {f['file']:.3f}, "
                  f"high-arousal above neutral {100 * f['pairwise']:.1f} % of {f['pairs']} pairs; "
                  f"per file {count} of {len(clips)} takes called {top}")


if __name__ == "__main__":
    main()
