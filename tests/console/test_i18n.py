"""The console is fully translated: every string of our apps and of django-unfold's templates has a
simplified-Chinese translation, and the committed .mo matches the .po."""

from __future__ import annotations

import ast
import gettext
import re
import shutil
from pathlib import Path

import pytest
import unfold
from django.core.management import call_command
from django.utils import translation

import laoke

LOCALE = Path(laoke.__file__).parent / "locale"
PO = LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
TRANS_TAG = re.compile(r"""{%\s*trans(?:late)?\s+"([^"]+)"\s*(?:as \w+\s*)?%}""")
SAME_IN_CHINESE = {"API", "IP", "SKU", "HTML", "ID", "URL"}


def _entries(po: Path, *, with_context: bool = False):
    """(msgid, msgstr, fuzzy) of a .po file, header left out (enough for Django's output);
    ``with_context`` adds each entry's msgctxt (pgettext) or None in front."""
    text = po.read_text(encoding="utf-8")
    out = []
    for block in re.split(r"\n\s*\n", text.strip()):
        fuzzy = any(line.startswith("#,") and "fuzzy" in line for line in block.splitlines())
        parts, key = {}, None
        for line in block.splitlines():
            m = re.match(r"^(msgctxt|msgid|msgid_plural|msgstr(?:\[0\])?)\s+(\".*\")$", line)
            if m:
                key = m.group(1).replace("[0]", "")
                parts[key] = ast.literal_eval(m.group(2))
            elif line.startswith('"') and key:
                parts[key] += ast.literal_eval(line)
        if parts.get("msgid"):
            entry = (parts["msgid"], parts.get("msgstr", ""), fuzzy)
            out.append((parts.get("msgctxt"), *entry) if with_context else entry)
    return out


def test_po_is_complete_and_compiled():
    entries = _entries(PO)
    assert len(entries) > 300
    untranslated = [m for m, s, fuzzy in entries if not s or fuzzy]
    assert untranslated == []
    catalog = gettext.GNUTranslations(MO.open("rb"))

    def compiled(ctx, m):
        return catalog.pgettext(ctx, m) if ctx else catalog.gettext(m)

    stale = [
        m
        for ctx, m, s, _f in _entries(PO, with_context=True)
        if compiled(ctx, m) != s and catalog.ngettext(m, m, 1) != s
    ]
    assert stale == [], "django.mo is older than django.po: run compilemessages"


def test_unfold_template_strings_are_translated():
    root = Path(unfold.__file__).parent / "templates"
    found = set()
    for path in root.rglob("*.html"):
        found.update(TRANS_TAG.findall(path.read_text(encoding="utf-8")))
    assert len(found) > 50
    with translation.override("zh-hans"):
        missing = sorted(s for s in found if s not in SAME_IN_CHINESE and translation.gettext(s) == s)
    assert missing == []


@pytest.mark.skipif(not shutil.which("xgettext"), reason="needs GNU gettext (xgettext) to collect strings")
def test_every_gettext_string_in_the_source_is_translated(tmp_path, settings, monkeypatch):
    src = Path(laoke.__file__).parent
    copy = tmp_path / "laoke"
    shutil.copytree(src, copy, ignore=shutil.ignore_patterns("__pycache__", "migrations", "*.mo"))
    settings.LOCALE_PATHS = [copy / "locale"]
    monkeypatch.chdir(copy)
    call_command("makemessages", locale=["zh_Hans"], no_location=True, no_obsolete=True, verbosity=0)
    new = [
        m
        for m, s, fuzzy in _entries(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")
        if not s or fuzzy
    ]
    assert new == [], "untranslated strings; see the header of src/laoke/locale/zh_Hans/LC_MESSAGES/django.po"
