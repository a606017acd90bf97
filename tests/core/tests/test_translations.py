"""The package's translations: the template, the Spanish catalogue and its compiled form.

``import_export/locale/django.pot`` is what ``makemessages`` extracts from the package;
``locale/es/LC_MESSAGES/django.po`` is the Spanish catalogue written for this fork, and
``django.mo`` its compiled form, committed so that a machine without the gettext tools (CI has
only Python and pip) still ships it.
"""

from __future__ import annotations

import ast
import gettext
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import translation

import import_export
from import_export import widgets

LOCALE = Path(import_export.__file__).parent / "locale"
TEMPLATE = LOCALE / "django.pot"
SPANISH_PO = LOCALE / "es" / "LC_MESSAGES" / "django.po"
SPANISH_MO = LOCALE / "es" / "LC_MESSAGES" / "django.mo"


def read_catalogue(path: Path) -> dict[tuple[str, str | None], list[str]]:
    """``{(msgid, msgid_plural): [msgstr, ...]}`` of a .po/.pot file, the header left out.

    Enough of the format for the files ``makemessages`` and ``msgcat`` write: quoted strings,
    continuation lines, plural forms and comments.
    """
    entries = {}
    fields: dict[str, list[str]] = {}
    current = None

    def finish():
        if "msgid" in fields:
            msgid = "".join(fields["msgid"])
            plural = "".join(fields["msgid_plural"]) if "msgid_plural" in fields else None
            forms = sorted(key for key in fields if key.startswith("msgstr"))
            if msgid:
                entries[(msgid, plural)] = ["".join(fields[key]) for key in forms]
        fields.clear()

    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            finish()
            current = None
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            fields[current].append(ast.literal_eval(line))
        else:
            keyword, _, quoted = line.partition(" ")
            current = keyword
            fields[current] = [ast.literal_eval(quoted)]
    finish()
    return entries


def test_spanish_catalogue_translates_every_message_of_the_template():
    template = read_catalogue(TEMPLATE)
    spanish = read_catalogue(SPANISH_PO)
    assert len(template) > 80  # the whole package, not a fragment
    assert set(spanish) == set(template)
    untranslated = [key for key, forms in spanish.items() if not all(forms)]
    assert untranslated == []


def test_compiled_catalogue_matches_the_po_file():
    with SPANISH_MO.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for (msgid, plural), forms in read_catalogue(SPANISH_PO).items():
        if plural is None:
            assert compiled.gettext(msgid) == forms[0], msgid
        else:
            assert compiled.ngettext(msgid, plural, 1) == forms[0], msgid
            assert compiled.ngettext(msgid, plural, 5) == forms[-1], msgid


def test_messages_are_spanish_under_an_active_spanish_language():
    with translation.override("es"):
        with pytest.raises(ValueError) as caught:
            widgets.DateWidget().clean("not a date")
        assert str(caught.value) == "El valor no se pudo interpretar con los formatos definidos."
        assert caught.value.detail.startswith("'not a date' no es una fecha")
    with translation.override("en"):
        with pytest.raises(ValueError, match="^Value could not be parsed using defined formats"):
            widgets.DateWidget().clean("not a date")


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs GNU gettext (xgettext)")
def test_template_lists_what_makemessages_extracts_now(tmp_path):
    """A marked string added without re-running makemessages would be missing from the .pot."""
    copy = tmp_path / "import_export"
    shutil.copytree(Path(import_export.__file__).parent, copy)
    tests_dir = Path(__file__).resolve().parents[2]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "django",
            "makemessages",
            "-l",
            "es",
            "--keep-pot",
            "--no-location",
            "--no-obsolete",
        ],
        cwd=copy,
        env={
            "PYTHONPATH": f"{tests_dir}",
            "DJANGO_SETTINGS_MODULE": "settings",
            "PATH": "/usr/bin:/bin",
        },
        check=True,
        capture_output=True,
    )
    assert set(read_catalogue(copy / "locale" / "django.pot")) == set(read_catalogue(TEMPLATE))
