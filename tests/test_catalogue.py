"""The German catalogue is complete: every string the code and the templates mark for
translation has a German text, none is fuzzy, and the compiled catalogue that Django reads is the
one in the repository's .po file (a forgotten `compilemessages` shows English on a German page).

Django's own `makemessages` runs over a copy of the sources (it rewrites the catalogue in place,
which a test must not do to the checkout), so a string added to the code without a German text
fails here, whatever page shows it. The English interface is the msgids themselves.

These read files only: they run in the SQLite tier (scripts/test_tiers.py runs the `no_db`
tests there alone).
"""

import shutil
import subprocess
import sys

import polib
import pytest

from tests.support import BASE_DIR, child_env

pytestmark = pytest.mark.no_db

CATALOGUE = BASE_DIR / "locale" / "de" / "LC_MESSAGES"
SOURCES = ("askpro_console", "integrations_app", "audit_app", "changelog", "templates", "locale")


def untranslated(po: polib.POFile) -> list[str]:
    return [entry.msgid for entry in po if not entry.obsolete and not entry.translated()]


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """The catalogue as makemessages writes it for today's sources, in a copy of them."""
    copy = tmp_path_factory.mktemp("sources")
    for name in SOURCES:
        shutil.copytree(
            BASE_DIR / name, copy / name, ignore=shutil.ignore_patterns("__pycache__", "*.mo")
        )
    shutil.copy(BASE_DIR / "manage.py", copy / "manage.py")
    env = child_env() | {"DJANGO_SETTINGS_MODULE": "askpro_console.settings", "PYTHONPATH": ""}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "de", "--no-obsolete"],
        cwd=copy, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    return polib.pofile(str(copy / "locale" / "de" / "LC_MESSAGES" / "django.po"))


def test_every_string_marked_in_the_code_has_a_german_text(extracted):
    missing = untranslated(extracted)
    assert not missing, f"{len(missing)} strings without a German text: {missing[:30]}"


def test_the_repository_catalogue_has_no_untranslated_or_fuzzy_entry():
    po = polib.pofile(str(CATALOGUE / "django.po"))
    assert not untranslated(po), untranslated(po)[:30]
    assert not [e.msgid for e in po.fuzzy_entries()]


def test_the_compiled_catalogue_is_the_repository_catalogue():
    """django.mo (what Django reads) holds exactly the translated entries of django.po."""
    po = polib.pofile(str(CATALOGUE / "django.po"))
    mo = polib.mofile(str(CATALOGUE / "django.mo"))

    def entries(catalogue):
        return {
            (e.msgctxt, e.msgid): (e.msgstr, tuple(sorted(e.msgstr_plural.items())))
            for e in catalogue
            if e.msgid
        }

    source = entries(e for e in po if not e.obsolete and e.translated())
    compiled = entries(mo)  # msgfmt writes the translated entries only
    stale = sorted(str(k) for k in source.keys() ^ compiled.keys())[:20]
    assert not stale, f"run compilemessages: entries differ: {stale}"
    changed = [k for k in source if source[k] != compiled[k]][:20]
    assert not changed, f"run compilemessages: texts differ: {changed}"
