"""ser.data: filename schemes, folder layouts, manifests, class selection and label errors."""
import pandas as pd
import pytest

from emovc.core.errors import UserError
from emovc.ser.data import class_labels, load_dataset, parse_filename


@pytest.mark.parametrize("name, expected", [
    ("03-01-06-02-02-01-12.wav", {"corpus": "ravdess", "speaker": "ravdess_12", "gender": "female",
                                  "emotion": "fearful", "intensity": "strong",
                                  "text": "Dogs are sitting by the door"}),
    ("1001_DFA_ANG_XX.wav", {"corpus": "cremad", "speaker": "cremad_1001", "emotion": "angry",
                             "intensity": "unspecified", "text": "Don't forget a jacket"}),
    ("OAF_back_ps.wav", {"corpus": "tess", "speaker": "tess_OAF", "gender": "female",
                         "emotion": "surprised", "text": "back"}),
    ("YAF_dog_fear.wav", {"corpus": "tess", "speaker": "tess_YAF", "emotion": "fearful"}),
    ("DC_sa01.wav", {"corpus": "savee", "speaker": "savee_DC", "gender": "male", "emotion": "sad"}),
    ("KL_su15.wav", {"corpus": "savee", "emotion": "surprised"}),
    ("03a01Fa.wav", {"corpus": "emodb", "speaker": "emodb_03", "gender": "male", "emotion": "happy",
                     "text": "a01"}),
    ("16b10Lb.wav", {"corpus": "emodb", "gender": "female", "emotion": "boredom"}),
])
def test_filename_schemes(name, expected):
    row = parse_filename(name)
    assert {k: row[k] for k in expected} == expected


def test_unrecognised_name_is_none():
    assert parse_filename("my_recording.wav") is None
    assert parse_filename("03-01-06-02-02-01.wav") is None      # RAVDESS name with a part missing


def _touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"RIFF")      # parsing reads names only; audio is read later, by features
    return path


def test_folder_per_emotion_and_named_files(tmp_path):
    _touch(tmp_path / "Angry" / "take1.wav")
    _touch(tmp_path / "fear" / "take2.flac")
    _touch(tmp_path / "misc" / "DC_h03.wav")           # a known scheme wins over the folder name
    df = load_dataset(tmp_path).sort_values("emotion")
    assert list(df["emotion"]) == ["angry", "fearful", "happy"]
    assert list(df["speaker"]) == ["", "", "savee_DC"]
    assert all(p.startswith(str(tmp_path)) for p in df["path"])


def test_folder_with_unknown_layout_names_the_file(tmp_path):
    _touch(tmp_path / "session1" / "take1.wav")
    with pytest.raises(UserError, match="take1.wav: cannot tell its emotion"):
        load_dataset(tmp_path)


def test_manifest_unknown_label_names_file_and_label(tmp_path):
    pd.DataFrame({"path": ["a.wav"], "emotion": ["grumpy"]}).to_csv(tmp_path / "manifest.csv", index=False)
    with pytest.raises(UserError, match=r"a\.wav.*unknown emotion label 'grumpy'"):
        load_dataset(tmp_path)


def test_empty_dataset_and_missing_source(tmp_path):
    pd.DataFrame({"path": ["a.wav"], "emotion": ["boredom"]}).to_csv(tmp_path / "m.csv", index=False)
    with pytest.raises(UserError, match="dataset is empty"):
        load_dataset(tmp_path / "m.csv")
    with pytest.raises(UserError, match="no such dataset"):
        load_dataset(tmp_path / "nowhere")


def test_ravdess_manifest(shared_data):
    df = load_dataset(shared_data / "ravdess")
    assert len(df) == 1440 and df["speaker"].nunique() == 24
    assert class_labels(df) == ["neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised"]
    assert (shared_data / "ravdess" / "Actor_01").resolve().as_posix() in df["path"][0]


def test_multi_corpus_class_set_and_label_map(shared_data):
    df = load_dataset([shared_data / "ravdess", shared_data / "urdu"], classes=["neutral", "sad"],
                      label_map={"calm": "neutral"})
    counts = df.groupby(["corpus", "emotion"]).size().to_dict()
    assert counts == {("ravdess", "neutral"): 96 + 192, ("ravdess", "sad"): 192,
                      ("urdu", "neutral"): 100, ("urdu", "sad"): 100}


def test_arousal_levels_are_dropped_unless_chosen(shared_data):
    assert set(load_dataset(shared_data / "baved")["emotion"]) == {"neutral"}
    chosen = load_dataset(shared_data / "baved", classes=["low_arousal", "high_arousal"])
    assert set(chosen["emotion"]) == {"low_arousal", "high_arousal"}


def test_each_shared_corpus_maps_onto_the_eight_as_documented(shared_data):
    """The label map of docs/ser.md and the model card: no corpus gets a label it does not have,
    and BAVED's arousal levels are not emotions (dropped from the eight-class set)."""
    from emovc.ser.data import load_dataset
    expected = {"ravdess": {"neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised"},
                "urdu": {"angry", "happy", "neutral", "sad"}, "turevdb": {"angry", "calm", "happy", "sad"},
                "baved": {"neutral"}}
    df = load_dataset([shared_data / name for name in expected])
    for corpus, labels in expected.items():
        assert set(df.loc[df["corpus"] == corpus, "emotion"]) == labels
    assert len(df[df["corpus"] == "baved"]) == 672
