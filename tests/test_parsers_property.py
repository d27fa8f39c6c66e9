"""Property-based tests of the parsers (hypothesis): whatever valid content is written comes back
unchanged, and any corruption is an error naming the file and line, never a silent drop."""

from __future__ import annotations

import gzip

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlkd_utils.data.bucc import read_bucc
from mlkd_utils.data.parallel import read_parallel_tsv
from mlkd_utils.data.sts import read_sts_tsv
from mlkd_utils.errors import DataFormatError

# Sentences: any printable text without tabs or line breaks, not only whitespace.
sentence = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=40
).filter(lambda s: s.strip() != "")
score = st.floats(0, 5, allow_nan=False).map(lambda x: round(x, 3))
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(rows=st.lists(st.tuples(score, sentence, sentence), min_size=1, max_size=15), crlf=st.booleans())
def test_sts_round_trip(tmp_path, rows, crlf):
    end = "\r\n" if crlf else "\n"
    path = tmp_path / "sts.tsv"
    path.write_bytes(
        ("score\tsentence1\tsentence2" + end + "".join(f"{s}\t{a}\t{b}{end}" for s, a, b in rows)).encode()
    )
    d = read_sts_tsv(path)
    assert list(zip(d.scores, d.sentences1, d.sentences2)) == [(float(s), a, b) for s, a, b in rows]


@SETTINGS
@given(rows=st.lists(st.tuples(score, sentence, sentence), min_size=1, max_size=15), data=st.data())
def test_sts_corrupt_line_is_named(tmp_path, rows, data):
    bad = data.draw(st.integers(0, len(rows) - 1))
    kind = data.draw(st.sampled_from(["columns", "score", "range"]))
    lines = [f"{s}\t{a}\t{b}" for s, a, b in rows]
    s, a, b = rows[bad]
    lines[bad] = {"columns": f"{s}\t{a}", "score": f"x{s}\t{a}\t{b}", "range": f"{s + 5.5}\t{a}\t{b}"}[kind]
    path = tmp_path / "sts.tsv"
    path.write_text("score\tsentence1\tsentence2\n" + "\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataFormatError) as err:
        read_sts_tsv(path)
    assert err.value.line == bad + 2 and f"{path}:{bad + 2}:" in str(err.value)


@SETTINGS
@given(pairs=st.lists(st.tuples(sentence, sentence), min_size=1, max_size=20))
def test_parallel_keeps_or_counts_every_line(tmp_path, pairs):
    path = tmp_path / "en-de.tsv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write("".join(f"{e}\t{d}\n" for e, d in pairs))
    c = read_parallel_tsv(path, "src", "de", max_chars=30)
    expected, seen = [], set()
    for e, d in pairs:
        e, d = e.strip(), d.strip()
        if len(e) <= 30 and len(d) <= 30 and (e, d) not in seen:
            seen.add((e, d))
            expected.append((e, d))
    assert list(zip(c.english, c.other)) == expected
    assert c.report.kept + c.report.n_dropped == len(pairs)


@SETTINGS
@given(pairs=st.lists(st.tuples(sentence, sentence), min_size=2, max_size=20), data=st.data())
def test_truncated_gzip_is_an_error_never_a_short_corpus(tmp_path, pairs, data):
    path = tmp_path / "en-de.tsv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write("".join(f"{e}\t{d}\n" for e, d in pairs))
    blob = path.read_bytes()
    path.write_bytes(blob[: data.draw(st.integers(1, len(blob) - 1))])
    with pytest.raises(DataFormatError, match="corrupt or truncated gzip"):
        read_parallel_tsv(path, "src", "de")


@SETTINGS
@given(n=st.integers(1, 12), data=st.data())
def test_bucc_round_trip_and_dangling_gold(tmp_path, n, data):
    texts = data.draw(st.lists(sentence, min_size=2 * n, max_size=2 * n))
    src = {f"de-{i:06d}": texts[i] for i in range(n)}
    en = {f"en-{i:06d}": texts[n + i] for i in range(n)}
    gold = [(f"de-{i:06d}", f"en-{i:06d}") for i in range(n)]
    paths = [tmp_path / f"x.{ext}" for ext in ("de", "en", "gold")]
    for p, rows in zip(paths, (src.items(), en.items(), gold)):
        p.write_text("".join(f"{a}\t{b}\n" for a, b in rows), encoding="utf-8")
    d = read_bucc(*paths, "de-en")
    assert (d.source, d.english, d.gold) == (src, en, gold)
    missing = data.draw(st.integers(0, n - 1))
    paths[2].write_text("".join(f"{a}\t{'en-999999' if i == missing else b}\n" for i, (a, b) in enumerate(gold)))
    with pytest.raises(DataFormatError, match=f"x.gold:{missing + 1}: gold id 'en-999999' not in x.en"):
        read_bucc(*paths, "de-en")
