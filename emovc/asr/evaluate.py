"""Word and character error rates of a backend on a manifest, with a breakdown by any column.

    python -m emovc.asr.evaluate ../shared/data/ravdess/manifest.csv --by emotion intensity --limit 96

Normalisation (applied to reference and hypothesis alike, see `normalise_text`): Unicode NFKC,
lower case; numbers spelled out in English words ('21st' -> 'twenty first', '3.5' -> 'three
point five', '1,000' -> 'one thousand', '%' -> 'percent'); apostrophes removed ("don't" ->
'dont'); every other punctuation mark becomes a space; whitespace collapsed. A written form
with two readings counts as right under either, as the alternations of a NIST sclite GLM file
do: '7.45' is a decimal or, as British English writes clock times, 'seven forty five' (like
'7:45'). WER counts word substitutions, deletions and insertions over reference words; CER does
the same over the characters of the normalised text (single spaces included). Totals are pooled over files
(total errors / total reference words), not averages of per-file rates.
"""
import argparse
import csv
import random
import re
import sys
import time
import unicodedata
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

from emovc.asr import load_asr
from emovc.asr.transcribe import NoSpeechWarning
from emovc.core.audio import atomic_path
from emovc.core.errors import UserError

_NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?(?:st|nd|rd|th)?")
_DOT_TIME = re.compile(r"(?<![\d.,])([01]?\d|2[0-3])\.([0-5]\d)(?!\d|[.,]\d)")   # 7.45, 12.30, not 3.14159


def _spell(match: re.Match) -> str:
    from num2words import num2words
    token = match.group().replace(",", "")
    if token[-2:] in ("st", "nd", "rd", "th"):
        return " " + num2words(int(token[:-2]), to="ordinal") + " "
    return " " + num2words(float(token) if "." in token else int(token)) + " "


def normalise_text(text: str) -> str:
    """The comparison form of a transcript: see the module docstring for the rules."""
    text = unicodedata.normalize("NFKC", text).lower().replace("%", " percent ")
    text = _NUMBER.sub(_spell, text)
    text = re.sub(r"['’`]", "", text)
    text = re.sub(r"[^\w\s]|_", " ", text)
    return " ".join(text.split())


def readings(text: str) -> list[str]:
    """The comparison forms of a transcript: `normalise_text`'s, and where the text writes a
    clock time with a dot ('7.45'), the form that reads it as a time too."""
    forms = [normalise_text(text)]
    as_time = _DOT_TIME.sub(r"\1:\2", text)
    if as_time != text:
        forms.append(normalise_text(as_time))
    return forms


def errors(reference: str, hypothesis: str, unit: str = "word") -> tuple[int, int]:
    """(edits, reference length) in words or characters, the fewest edits over the readings."""
    split = str.split if unit == "word" else (lambda form: form)
    refs, hyps = [split(r) for r in readings(reference)], [split(h) for h in readings(hypothesis)]
    return min(edit_distance(r, h) for r in refs for h in hyps), len(refs[0])


def edit_distance(reference: list | str, hypothesis: list | str) -> int:
    """Levenshtein distance (substitutions, deletions, insertions) between two sequences."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        current = [i]
        for j, hyp in enumerate(hypothesis, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref != hyp)))
        previous = current
    return previous[-1]


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate after normalisation; an empty reference counts as one word."""
    edits, words = errors(reference, hypothesis)
    return edits / max(words, 1)


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate after normalisation; an empty reference counts as one character."""
    edits, chars = errors(reference, hypothesis, "char")
    return edits / max(chars, 1)


@dataclass
class FileResult:
    path: str
    reference: str
    hypothesis: str
    word_errors: int
    words: int
    char_errors: int
    chars: int
    duration: float         # seconds of audio
    seconds: float          # wall-clock time to read and transcribe it
    columns: dict           # the manifest row, for breakdowns


def read_manifest(path: str | Path, limit: int | None = None) -> list[dict]:
    """Rows of a `path,text,...` CSV that have a reference text; paths made absolute.

    `limit` keeps a fixed random sample (seed 0) of that many rows, in manifest order.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: manifest not found; give a CSV with columns path,text")
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = {"path", "text"} - set(reader.fieldnames or ())
        if missing:
            raise UserError(f"{path}: manifest lacks column(s) {', '.join(sorted(missing))}; "
                            f"it needs path,text (paths relative to the manifest's folder)")
        rows = [row for row in reader if row["text"].strip()]
    if not rows:
        raise UserError(f"{path}: no rows with a reference text to score")
    if limit and limit < len(rows):
        keep = set(random.Random(0).sample(range(len(rows)), limit))
        rows = [row for i, row in enumerate(rows) if i in keep]
    for row in rows:
        row["path"] = str(path.parent / row["path"])
    return rows


def score(asr_model, rows: list[dict], progress: bool = True) -> list[FileResult]:
    """Transcribe every row and count its errors."""
    from tqdm import tqdm
    results = []
    for row in tqdm(rows, desc="transcribing", unit="file", disable=not progress):
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NoSpeechWarning)   # an empty hypothesis is scored as such
            transcript = asr_model.transcribe(row["path"])
        seconds = time.perf_counter() - start
        results.append(FileResult(row["path"], row["text"], transcript.text,
                                  *errors(row["text"], transcript.text),
                                  *errors(row["text"], transcript.text, "char"), transcript.duration, seconds, row))
    return results


def summarise(results: list[FileResult], by: list[str] = ()) -> dict[str, dict]:
    """Pooled WER, CER and real-time factor overall ('all') and per value of each `by` column."""
    groups: dict[str, list[FileResult]] = {"all": results}
    for column in by:
        for value in sorted({r.columns[column] for r in results}):
            groups[f"{column}={value}"] = [r for r in results if r.columns[column] == value]
    return {name: {"files": len(rs),
                   "words": sum(r.words for r in rs),
                   "wer": sum(r.word_errors for r in rs) / max(sum(r.words for r in rs), 1),
                   "cer": sum(r.char_errors for r in rs) / max(sum(r.chars for r in rs), 1),
                   "rtf": sum(r.seconds for r in rs) / max(sum(r.duration for r in rs), 1e-9)}
            for name, rs in groups.items()}


def format_table(summary: dict[str, dict]) -> str:
    lines = [f"{'group':<24} {'files':>6} {'words':>6} {'WER %':>7} {'CER %':>7} {'RTF':>6}"]
    for name, s in summary.items():
        lines.append(f"{name:<24} {s['files']:>6} {s['words']:>6} {100 * s['wer']:>7.2f} "
                     f"{100 * s['cer']:>7.2f} {s['rtf']:>6.3f}")
    return "\n".join(lines)


def write_results(path: str | Path, results: list[FileResult]) -> None:
    """Per-file results as CSV, published atomically (never overwriting)."""
    fields = [k for k in asdict(results[0]) if k != "columns"]
    try:
        with atomic_path(Path(path)) as tmp, open(tmp, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fields)
            writer.writeheader()
            writer.writerows({k: v for k, v in asdict(r).items() if k != "columns"} for r in results)
    except FileExistsError:
        raise UserError(f"{path}: already exists; choose another --out") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emovc.asr.evaluate", description=__doc__.split("\n\n")[0])
    parser.add_argument("manifest", help="CSV with columns path,text (paths relative to its folder)")
    parser.add_argument("--by", nargs="+", default=[], metavar="COLUMN", help="break down by these columns")
    parser.add_argument("--limit", type=int, help="score a fixed random sample of N rows")
    parser.add_argument("--backend", default="whisper")
    parser.add_argument("--model", help="backend model name or path (Whisper: base, tiny.en, folder)")
    parser.add_argument("--language", default="en", help="language code, or auto to detect")
    parser.add_argument("--out", help="write per-file results to this CSV")
    args = parser.parse_args(argv)
    rows = read_manifest(args.manifest, args.limit)
    unknown = [column for column in args.by if column not in rows[0]]
    if unknown:
        raise UserError(f"--by {unknown[0]}: no such manifest column; have: {', '.join(rows[0])}")
    asr_model = load_asr(args.backend, args.model, args.language)
    results = score(asr_model, rows, progress=sys.stderr.isatty())
    print(format_table(summarise(results, args.by)))
    if args.out:
        write_results(args.out, results)
    return 0


if __name__ == "__main__":
    from emovc.core.cli import run
    run(main)
