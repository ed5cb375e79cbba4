"""core.config: the one reader (bytes, size, encodings) and ranges in the schema."""
from dataclasses import dataclass, field
from typing import Annotated

import pytest

from emovc.convert.pipeline import expand_inputs
from emovc.core.config import Range, load_config, read_text
from emovc.core.errors import ConfigError, UserError
from emovc.ser.data import read_source


@dataclass
class Inner:
    rate: Annotated[float, Range(0, 1, low_open=True)] = 0.5


@dataclass
class Schema:
    count: Annotated[int, Range(2)] = 6
    sizes: list[Annotated[int, Range(1)]] = field(default_factory=lambda: [4])
    inner: Inner = field(default_factory=Inner)
    maybe: Annotated[float, Range(high=10)] | None = None


@pytest.mark.parametrize("override, message", [
    ("count=1", "key 'count' is 1; allowed: >= 2"),
    ("sizes=[3, 0]", "key 'sizes[1]' is 0; allowed: >= 1"),
    ("inner.rate=0", "key 'inner.rate' is 0.0; allowed: > 0 and <= 1"),
    ("inner.rate=1.5", "allowed: > 0 and <= 1"),
    ("maybe=11", "key 'maybe' is 11.0; allowed: <= 10"),
])
def test_ranges_name_the_key_and_the_allowed_range(tmp_path, override, message):
    (tmp_path / "c.yaml").write_text("count: 3\n")
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_config(tmp_path / "c.yaml", Schema, [override])
    cfg = load_config(tmp_path / "c.yaml", Schema, ["inner.rate=1", "maybe=null"])
    assert (cfg.count, cfg.inner.rate, cfg.maybe) == (3, 1.0, None)


def test_exponent_without_a_dot_is_a_number_where_a_float_is_expected(tmp_path):
    (tmp_path / "c.yaml").write_text("inner: {rate: 5e-1}\n")       # YAML 1.1 reads 5e-1 as a string
    assert load_config(tmp_path / "c.yaml", Schema, ["maybe=1E+1"]).inner.rate == 0.5
    with pytest.raises(ConfigError, match="key 'maybe' is 20.0; allowed: <= 10"):
        load_config(tmp_path / "c.yaml", Schema, ["maybe=2e1"])
    with pytest.raises(ConfigError, match="key 'count' must be int"):
        load_config(tmp_path / "c.yaml", Schema, ["count=1e1"])


def test_excel_csv_utf8_with_bom_and_crlf_is_read(tmp_path):               # issue 13, item 8
    (tmp_path / "a.wav").write_bytes(b"")
    (tmp_path / "m.csv").write_bytes("\ufeffpath,emotion\r\na.wav,happy\r\n".encode("utf-8"))
    assert expand_inputs(tmp_path / "m.csv") == ([tmp_path / "a.wav"], True)
    assert read_source(tmp_path / "m.csv")["emotion"].tolist() == ["happy"]
    assert read_text(tmp_path / "m.csv", "manifest", 1000) == "path,emotion\na.wav,happy\n"


@pytest.mark.parametrize("data, message", [
    ("ser: x\n".encode("utf-16"), "not UTF-8 text (byte 0xff at offset 0); save it as UTF-8"),
    ("caf\xe9: 1\n".encode("latin-1"), "not UTF-8 text (byte 0xe9 at offset 3)"),
    (b"ser: a\x00b\n", "a binary file, not text"),
    (b"# x\n" * 300_000, "larger than 1024 KiB"),
])
def test_config_bytes_that_are_not_a_utf8_page_of_yaml(tmp_path, data, message):
    (tmp_path / "c.yaml").write_bytes(data)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_config(tmp_path / "c.yaml", Schema)


def test_a_latin1_manifest_is_refused_by_both_readers(tmp_path):
    (tmp_path / "m.csv").write_bytes("path,emotion\ncaf\xe9.wav,happy\n".encode("latin-1"))
    for read in (expand_inputs, read_source):
        with pytest.raises(UserError, match="manifest is not UTF-8 text"):
            read(tmp_path / "m.csv")
