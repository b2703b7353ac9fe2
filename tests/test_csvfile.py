"""core.csvfile: the one place that tells UTF-8 (with or without BOM) from Shift_JIS, names the
line of what cannot be read, and numbers CSV rows by their lines (the holdings, the registrar's
patrons and the fee-offset statement all read their files through it)."""

import csv
import io

import pytest
from django.utils import translation

from core import csvfile
from ill import holdings
from patrons import registrar


def test_decode_tells_the_encoding_apart():
    assert csvfile.decode("番号,氏名\n".encode()) == ("番号,氏名\n", "utf-8")
    assert csvfile.decode(b"\xef\xbb\xbf" + "番号\n".encode()) == ("番号\n", "utf-8-bom")
    assert csvfile.decode("番号\n".encode("cp932")) == ("番号\n", "cp932")
    assert csvfile.decode("①髙\n".encode("cp932")) == ("①髙\n", "cp932")  # the NEC/IBM extensions
    with pytest.raises(csvfile.NotText):
        csvfile.decode(b"ok\n\x81\xff\n")


@translation.override("en")
def test_encoding_of_names_the_line_of_what_it_cannot_read():
    assert csvfile.encoding_of(b"a\n") == "utf-8-sig"
    assert csvfile.encoding_of(b"\xef\xbb\xbfa\n") == "utf-8-sig"
    assert csvfile.encoding_of("あ\n".encode("cp932")) == "cp932"
    with pytest.raises(csvfile.FileProblem) as utf16:
        csvfile.encoding_of("a\n".encode("utf-16"))
    assert utf16.value.line == 1 and "UTF-16" in utf16.value.message
    with pytest.raises(csvfile.FileProblem) as nul:
        csvfile.encoding_of(b"a\nb\nc\x00\n", nul_message="NUL here")
    assert (nul.value.line, nul.value.message) == (3, "NUL here")
    with pytest.raises(csvfile.FileProblem) as neither:
        csvfile.encoding_of(b"a\nb\n\x81\xff\n")
    assert neither.value.line == 3 and "neither UTF-8 nor Shift_JIS" in neither.value.message


@translation.override("en")
def test_numbered_rows_span_their_lines_and_a_bad_row_names_its_first_line():
    reader = csv.reader(io.StringIO('h1,h2\na,"two\nlines"\nb,c\n', newline=""))
    next(reader)
    assert list(csvfile.numbered(reader)) == [(2, 3, ["a", "two\nlines"]), (4, 4, ["b", "c"])]
    strict = csv.reader(io.StringIO('a,b\nc,"d"x\n', newline=""), strict=True)
    rows = csvfile.numbered(strict)
    assert next(rows) == (1, 1, ["a", "b"])
    with pytest.raises(csvfile.CSVLineError) as bad:
        next(rows)
    assert bad.value.line == 2 and isinstance(bad.value.error, csv.Error)
    assert "cannot be read as CSV" in bad.value.message
    with translation.override("ja"):  # the messages kept their msgids, so their translations
        assert csvfile.csv_problem(bad.value.error).startswith("この行をCSVとして読み取れません")


def test_problems_keep_the_first_ones_and_count_all():
    class Few(csvfile.Problems):
        keep = 2

    problems = Few()
    for line in range(1, 6):
        problems.add(line, f"bad {line}")
    assert problems.count == 5 and problems.first == [[1, "bad 1"], [2, "bad 2"]]


def test_the_readers_share_the_errors():
    assert holdings.FileProblem is registrar.FileProblem is csvfile.FileProblem
    assert holdings.RecordError is registrar.RecordError is csvfile.RecordError


@translation.override("en")
def test_a_missing_column_is_named_with_the_names_accepted_for_it():
    csvfile.require_columns({"id": 0, "title": 1}, {"id": ("id",), "title": ("title",)}, ["id", "title"])
    with pytest.raises(csvfile.FileProblem) as missing:
        csvfile.require_columns({"id": 0}, {"id": ("id",), "title": ("title", "タイトル")}, ["id", "title"])
    assert missing.value.line == 1
    assert missing.value.message == "the header has no column for title (accepted names — title: title, タイトル)"
