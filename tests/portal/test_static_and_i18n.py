"""Static files come from the project (no CDN) and every string has its Swedish."""

import gettext
from pathlib import Path

import polib
import pytest
from django.core.management import call_command

LOCALE = Path("locale/sv/LC_MESSAGES")


def test_every_string_is_translated_into_swedish():
    po = polib.pofile(str(LOCALE / "django.po"))
    assert po.untranslated_entries() == []
    assert po.fuzzy_entries() == []
    assert po.percent_translated() == 100


def test_the_committed_catalog_is_compiled_from_the_po_file():
    po = polib.pofile(str(LOCALE / "django.po"))
    with (LOCALE / "django.mo").open("rb") as handle:
        mo = gettext.GNUTranslations(handle)
    for entry in po.translated_entries():
        if entry.msgid_plural:
            assert mo.ngettext(entry.msgid, entry.msgid_plural, 1) == entry.msgstr_plural[0]
        else:
            assert mo.gettext(entry.msgid) == entry.msgstr, entry.msgid


@pytest.mark.django_db
def test_collectstatic_builds_the_manifest_with_every_asset(tmp_path, settings):
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", "--noinput", verbosity=0)
    manifest = (tmp_path / "staticfiles.json").read_text()
    for asset in ("portal/portal.css", "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"):
        assert f'"{asset}"' in manifest
    # Served compressed, but for the source maps (a developer's tools ask for them; compressing them was most of it).
    assert list(tmp_path.rglob("swagger-ui-bundle.js.br")) and list(tmp_path.rglob("portal.css.gz"))
    assert list(tmp_path.rglob("*.js.map")) and not list(tmp_path.rglob("*.map.br")) + list(tmp_path.rglob("*.map.gz"))


def test_templates_reference_no_outside_host():
    for template in Path("templates").rglob("*.html"):
        text = template.read_text()
        assert "http://" not in text and "https://" not in text, template
