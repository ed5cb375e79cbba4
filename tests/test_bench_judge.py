"""The bench's measuring helpers: ceiling selection, figures beside their ceiling, speaker-similarity
arithmetic (no corpora, no judge training; the manifest check skips without them)."""
import numpy as np
import pytest

from bench.emotion_judge import (ESD_EMOTIONS, ceiling_selection, corpus_intensity, esd_takes, figures,
                                 keep_voice_sources, pairwise, ravdess_rows, real_takes, with_ceiling)
from bench.speaker_similarity import between_speakers, cosines
from emovc.core.labels import EMOTIONS

CODES = {e: f"{i + 1:02d}" for i, e in enumerate(EMOTIONS)}


def row(actor, emotion, intensity="normal", statement=1, rep=1):
    level = "02" if intensity == "strong" else "01"
    return {"path": f"Actor_{actor:02d}/03-01-{CODES[emotion]}-{level}-{statement:02d}-{rep:02d}-{actor:02d}.flac",
            "speaker": f"ravdess_{actor:02d}", "emotion": emotion, "intensity": intensity,
            "text": f"sentence {statement}"}


def corpus(actors=range(19, 25)):
    rows = []
    for a in actors:
        for s in (1, 2):
            for r in (1, 2):
                rows.append(row(a, "neutral", "normal", s, r))
                for e in EMOTIONS[1:]:
                    rows += [row(a, e, "normal", s, r), row(a, e, "strong", s, r)]
    return rows


def test_with_ceiling_formats_value_ceiling_and_ratio():
    assert with_ceiling(0.3, 0.6) == "0.300 (ceiling 0.600, ratio 0.50)"
    assert with_ceiling(0.45, 0.9, percent=True) == "45.0 % (ceiling 90.0 %, ratio 0.50)"
    assert with_ceiling(0.3, float("nan")) == "0.300 (ceiling n/a)"
    assert with_ceiling(float("nan"), 0.6) == "n/a"


def test_corpus_intensity_is_the_nearest_ravdess_level():
    assert [corpus_intensity(i) for i in ("normal", "strong", 0.3, 0.9, "1")] == \
        ["normal", "strong", "normal", "strong", "strong"]


def test_ceiling_selection_keeps_requested_emotions_at_the_runs_intensity():
    rows = corpus()
    chosen = [r for r, keep in zip(rows, ceiling_selection(rows, ["neutral", "angry", "sad"], "strong")) if keep]
    assert {r["emotion"] for r in chosen} == {"neutral", "angry", "sad"}
    assert {r["intensity"] for r in chosen if r["emotion"] != "neutral"} == {"strong"}
    assert sum(r["emotion"] == "neutral" for r in chosen) == sum(r["emotion"] == "angry" for r in chosen)   # balanced
    assert not ceiling_selection(rows, ["calm"], "normal")[[r["emotion"] != "calm" for r in rows]].any()


def test_keep_voice_sources_are_neutral_takes_of_held_out_actors_spread_over_them():
    sources = keep_voice_sources(corpus(), 8)
    assert len(sources) == 8 and {r["emotion"] for r in sources} == {"neutral"}
    assert sorted(r["speaker"][-2:] for r in sources) == ["21", "21", "22", "22", "23", "23", "24", "24"]


def test_real_takes_are_the_same_actor_sentence_and_repetition():
    rows = corpus()
    sources = keep_voice_sources(rows, 2)
    pairs = real_takes(rows, sources, ["neutral", "happy", "sad"], "strong")
    assert len(pairs) == 6
    for s, t in pairs:
        assert (t["speaker"], t["text"], t["path"][-12:-9]) == (s["speaker"], s["text"], s["path"][-12:-9])
        assert t is s if t["emotion"] == "neutral" else t["intensity"] == "strong"
    missing = [r for r in rows if not (r["emotion"] == "happy" and r["speaker"] == "ravdess_21")]
    pairs = real_takes(missing, keep_voice_sources(rows, 8), ["happy"], "normal")
    assert len(pairs) == 6 and "ravdess_21" not in {t["speaker"] for _, t in pairs}   # missing takes left out


def labelled(voice, emotion, text, judged, score, source=None):
    return {"voice": voice, "emotion": emotion, "text": text, "source": source, "judge_voice": judged,
            "judge_file": judged, "judge_score": {emotion: score, "neutral": 0.0}}


def test_figures_recall_and_pairwise_against_the_same_voice_and_sentence():
    clips = [labelled("a", "neutral", "s", "neutral", 0.0), labelled("a", "angry", "s", "angry", 1.0),
             labelled("a", "happy", "s", "sad", -1.0), labelled("b", "angry", "s", "angry", 5.0)]
    clips[0]["judge_score"].update(angry=0.5, happy=0.0)
    f = figures(clips, ["neutral", "angry", "happy"])
    assert f["voice"] == pytest.approx(2 / 3) and f["file"] == pytest.approx(2 / 3)
    assert (f["pairwise"], f["pairs"]) == (0.5, 2)                  # voice b has no neutral: no pair
    assert np.isnan(pairwise(clips[1:])[0])


def test_cosines_and_between_speaker_pairs():
    a = np.array([[1.0, 0.0], [1.0, 1.0]])
    assert cosines(a, np.array([[2.0, 0.0], [-1.0, -1.0]])) == pytest.approx([1.0, -1.0])
    emb = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    assert sorted(between_speakers(emb, ["x", "x", "y"])) == pytest.approx([0.0, 0.0])
    assert between_speakers(emb[:2], ["x", "x"]).size == 0


def test_keep_voice_real_takes_exist_in_ravdess(shared_data):
    rows = ravdess_rows()
    sources = keep_voice_sources(rows, 8)
    assert sorted({r["speaker"] for r in sources}) == [f"ravdess_{a}" for a in (21, 22, 23, 24)]
    for intensity in ("normal", "strong"):
        assert len(real_takes(rows, sources, EMOTIONS, intensity)) == 8 * len(EMOTIONS)


def test_esd_takes_group_whole_sentences_said_in_every_requested_emotion():
    rows = [{"path": f"{e}/{t}.flac", "emotion": e, "text": f"t{t}"} for t in range(30) for e in ESD_EMOTIONS
            if not (t == 0 and e == "angry")]                  # sentence 0 has no angry take
    clips = esd_takes(rows, ["neutral", "angry", "calm"], group=4)
    groups = {}
    for c in clips:
        groups.setdefault(c["voice"], []).append(c)
    assert {c["emotion"] for c in clips} == {"neutral", "angry"}      # ESD has no calm
    assert "t0" not in {c["text"] for c in clips}
    assert len(groups) == 29 // 4 and all(len(g) == 4 * 2 for g in groups.values())
    texts = [c["text"] for c in clips if c["emotion"] == "neutral"]
    assert len(texts) == len(set(texts))                             # no sentence in two groups
    assert esd_takes(rows, ["neutral", "angry"], group=4) == clips   # seeded
