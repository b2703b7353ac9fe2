"""locale/ja is complete: every string the code marks for translation has a Japanese text."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib

from tests.conftest import need

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "locale" / "ja" / "LC_MESSAGES" / "django.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|%[sd]")


def test_every_entry_is_translated_and_none_is_fuzzy():
    po = polib.pofile(str(CATALOGUE))
    assert [e.msgid for e in po.untranslated_entries()] == []
    assert [e.msgid for e in po.fuzzy_entries()] == []


def test_translations_keep_the_placeholders():
    po = polib.pofile(str(CATALOGUE))
    for entry in po.translated_entries():
        translations = [entry.msgstr] if not entry.msgid_plural else list(entry.msgstr_plural.values())
        # Japanese has one plural form, used for every count: it carries the plural's placeholders
        # (the singular English may leave the count out, "the checked charge" vs "%(n)s charges").
        source = entry.msgid_plural or entry.msgid
        for text in translations:
            assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(source)), entry.msgid


def test_the_catalogue_holds_every_string_of_the_code(tmp_path):
    need(shutil.which("xgettext") is not None, "GNU gettext (xgettext)")
    copy = tmp_path / "src"
    ignore = shutil.ignore_patterns(
        ".venv", "staticfiles", "tests", "*.pyc", "__pycache__", ".git", "*.sqlite3", "*.mo"
    )
    shutil.copytree(ROOT, copy, ignore=ignore)
    (copy / "locale" / "ja" / "LC_MESSAGES" / "django.po").unlink()
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "ja", "--ignore=staticfiles", "--no-obsolete"],
        cwd=copy,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    wanted = {(e.msgctxt, e.msgid) for e in polib.pofile(str(copy / "locale" / "ja" / "LC_MESSAGES" / "django.po"))}
    have = {(e.msgctxt, e.msgid) for e in polib.pofile(str(CATALOGUE)) if not e.obsolete}
    missing = sorted(msgid for _ctx, msgid in wanted - have)
    assert missing == [], f"run `make messages` and translate: {missing[:10]}"
