"""Loaders: real files parse to the documented sizes; bad input names the file and line."""

import gzip

import pytest

from conftest import needs_real_data, write_gz
from mlkd_utils.data import (
    REPORTS,
    STS17_SUBSETS,
    load_bucc,
    load_parallel,
    load_sts17,
    load_tatoeba,
    read_bucc,
    read_parallel_tsv,
    read_sts_tsv,
    read_tatoeba,
    tatoeba_languages,
)
from mlkd_utils.errors import DataFormatError, DataNotFoundError


@needs_real_data
def test_real_sts17_has_eleven_files_of_250_pairs():
    for subset in STS17_SUBSETS:
        d = load_sts17(subset)
        assert len(d) == 250, subset
        assert all(0 <= s <= 5 for s in d.scores)


@needs_real_data
def test_real_tatoeba_bucc_and_parallel():
    assert len(tatoeba_languages()) == 112
    de = load_tatoeba("de")
    assert len(de.source) == len(de.english) == 1000
    bucc = load_bucc("zh-en")
    assert (len(bucc.source), len(bucc.english), len(bucc.gold)) == (8624, 13589, 257)
    corpus = load_parallel("flores101_devtest", "de")
    assert len(corpus) == 1012 and corpus.report.n_dropped == 0


def test_sts_wrong_column_count_names_file_and_line(tmp_path):
    f = tmp_path / "x.tsv"
    f.write_text("score\tsentence1\tsentence2\n1.0\ta\tb\n2.0\tonly one\n")
    with pytest.raises(DataFormatError, match=r"x\.tsv:3: expected 3 tab-separated columns, found 2"):
        read_sts_tsv(f)


@pytest.mark.parametrize(
    ("line", "message"), [("7.5\ta\tb", "outside"), ("abc\ta\tb", "not a number"), ("1\t \tb", "empty sentence")]
)
def test_sts_bad_values(tmp_path, line, message):
    f = tmp_path / "x.tsv"
    f.write_text(f"score\tsentence1\tsentence2\n{line}\n")
    with pytest.raises(DataFormatError, match=f"x.tsv:2: .*{message}"):
        read_sts_tsv(f)


def test_sts_missing_header_and_non_utf8(tmp_path):
    f = tmp_path / "h.tsv"
    f.write_text("1.0\ta\tb\n")
    with pytest.raises(DataFormatError, match="h.tsv:1: expected header"):
        read_sts_tsv(f)
    g = tmp_path / "u.tsv"
    g.write_bytes(b"score\tsentence1\tsentence2\n1.0\ta\t\xff\xfe\n")
    with pytest.raises(DataFormatError, match="u.tsv:2: not valid UTF-8"):
        read_sts_tsv(g)


def test_sts_empty_lines_and_crlf_are_counted(tmp_path):
    f = tmp_path / "c.tsv"
    f.write_bytes(b"score\tsentence1\tsentence2\r\n1.0\ta\tb\r\n\n2.0\tc\td\r\n")
    d = read_sts_tsv(f)
    assert d.scores == [1.0, 2.0] and d.sentences2 == ["b", "d"]
    rep = REPORTS[-1]
    assert rep.dropped["empty_line"] == 1 and rep.repaired["crlf_stripped"] == 3


def test_parallel_drops_are_counted_by_reason(tmp_path):
    f = tmp_path / "en-de.tsv.gz"
    write_gz(f, ["a\tA", "a\tA", "\t", "b\t", "x" * 600 + "\ty", "", "c\tC"])
    corpus = read_parallel_tsv(f, "t", "de", max_chars=512)
    assert corpus.english == ["a", "c"]
    assert dict(corpus.report.dropped) == {"duplicate": 1, "empty_side": 1, "too_long": 1, "empty_line": 2}
    assert corpus.report.kept == 2


def test_parallel_truncated_gzip_and_bad_columns(tmp_path):
    f = tmp_path / "en-de.tsv.gz"
    write_gz(f, [f"sentence {i}\tSatz {i}" for i in range(5000)])
    f.write_bytes(f.read_bytes()[:-200])
    with pytest.raises(DataFormatError, match="en-de.tsv.gz:[0-9]+: corrupt or truncated gzip"):
        read_parallel_tsv(f, "t", "de")
    g = tmp_path / "en-fr.tsv.gz"
    with gzip.open(g, "wt") as fh:
        fh.write("a\tb\nc\td\te\n")
    with pytest.raises(DataFormatError, match="en-fr.tsv.gz:2: expected 2"):
        read_parallel_tsv(g, "t", "fr")


def test_tatoeba_misaligned_sides(tmp_path):
    (tmp_path / "a.deu").write_text("x\ny\n")
    (tmp_path / "a.eng").write_text("x\n")
    with pytest.raises(DataFormatError, match="2 lines but a.eng has 1"):
        read_tatoeba(tmp_path / "a.deu", tmp_path / "a.eng", "deu")


def test_bucc_gold_ids_must_exist_and_ids_be_unique(tmp_path):
    (tmp_path / "p.zh").write_text("zh-1\t你好\nzh-2\t再见\n")
    (tmp_path / "p.en").write_text("en-1\thello\n")
    (tmp_path / "p.gold").write_text("zh-1\ten-1\nzh-2\ten-9\n")
    with pytest.raises(DataFormatError, match="p.gold:2: gold id 'en-9' not in p.en"):
        read_bucc(tmp_path / "p.zh", tmp_path / "p.en", tmp_path / "p.gold", "zh-en")
    (tmp_path / "p.en").write_text("en-1\thello\nen-1\tagain\n")
    with pytest.raises(DataFormatError, match="p.en:2: duplicate id 'en-1'"):
        read_bucc(tmp_path / "p.zh", tmp_path / "p.en", tmp_path / "p.gold", "zh-en")


def test_missing_data_root_and_unknown_source(tmp_path, monkeypatch):
    monkeypatch.setenv("MLKD_DATA_ROOT", str(tmp_path / "nowhere"))
    with pytest.raises(DataNotFoundError, match="nowhere is not a directory"):
        load_sts17("en-de")


def test_unknown_source_lists_available(tiny_root):
    with pytest.raises(DataNotFoundError, match=r"have: \['tatoeba_challenge', 'xnli_devtest'\]"):
        load_parallel("wmt_newstest", "de")


def test_tatoeba_and_bucc_count_crlf_repairs(tmp_path):
    (tmp_path / "a.deu").write_bytes(b"Hallo\r\nWelt\n")
    (tmp_path / "a.eng").write_bytes(b"Hello\nWorld\r\n")
    pair = read_tatoeba(tmp_path / "a.deu", tmp_path / "a.eng", "deu")
    assert pair.source == ["Hallo", "Welt"] and pair.english == ["Hello", "World"]
    assert REPORTS[-1].repaired["crlf_stripped"] == 2
    (tmp_path / "p.zh").write_bytes(b"zh-1\t\xe4\xbd\xa0\xe5\xa5\xbd\r\n")
    (tmp_path / "p.en").write_bytes(b"en-1\thello\n\n")
    (tmp_path / "p.gold").write_bytes(b"zh-1\ten-1\r\n")
    bucc = read_bucc(tmp_path / "p.zh", tmp_path / "p.en", tmp_path / "p.gold", "zh-en")
    assert bucc.source == {"zh-1": "你好"} and bucc.gold == [("zh-1", "en-1")]
    by_path = {r.path.rsplit("/", 1)[-1]: r for r in REPORTS}
    assert by_path["p.zh"].repaired["crlf_stripped"] == 1 and by_path["p.en"].dropped["empty_line"] == 1
    assert by_path["p.gold"].repaired["crlf_stripped"] == 1


def test_tatoeba_empty_line_breaks_alignment_and_is_an_error(tmp_path):
    (tmp_path / "a.deu").write_text("x\n\ny\n")
    (tmp_path / "a.eng").write_text("x\nz\ny\n")
    with pytest.raises(DataFormatError, match="a.deu:2: empty line in an aligned file"):
        read_tatoeba(tmp_path / "a.deu", tmp_path / "a.eng", "deu")
