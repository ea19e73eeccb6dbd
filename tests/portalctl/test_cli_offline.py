"""portalctl without a portal: it is an HTTP client only, every word it says has its Swedish,
the bulk keys are deterministic and within the portal's limit, and the config file's precedence."""

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from portalctl import bulk, texts
from portalctl.client import Refused, api_base
from portalctl.config import config_save, settings_resolve

PACKAGE = Path(texts.__file__).parent


def test_portalctl_imports_neither_django_nor_the_portal():
    code = "import json, sys, portalctl.main; print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                       env={**os.environ, "DJANGO_SETTINGS_MODULE": ""}).stdout)
    assert {"typer", "rich", "httpx"} <= set(loaded)
    assert not {"django", "rest_framework", "portal", "billing", "licensing", "planchange", "celery"} & set(loaded)


def _words(path: Path):
    """Every literal passed to ``_()`` and every label in texts.LABELS."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "_" and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant):
                yield first.value
            elif isinstance(first, ast.JoinedStr):
                pytest.fail(f"{path.name}:{node.lineno}: an f-string can't be translated")


def test_every_word_of_the_cli_has_its_swedish():
    words = {w for path in PACKAGE.glob("*.py") for w in _words(path)}
    words |= {english for kind in texts.LABELS.values() for english in kind.values()}
    assert len(words) > 100
    missing = sorted(w for w in words if w not in texts.SV)
    assert missing == []
    assert sorted(set(texts.SV) - words) == []  # nothing left over
    # The same {placeholders} in both languages.
    import string

    def fields(text):
        return sorted(name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name)

    assert [w for w in words if fields(w) != fields(texts.SV[w])] == []


def test_swedish_is_chosen_per_language():
    texts.language_set("sv")
    try:
        assert texts._("Plan change {id} failed: {reason}", id=4, reason="x") == "Planändring 4 misslyckades: x"
        assert texts.label("step", "migrate_licenses") == "Flytta licenser"
    finally:
        texts.language_set("en")
    assert texts.label("status", "completed") == "Completed"
    assert texts.label("status", "something_new") == "something_new"


@pytest.mark.parametrize(("given", "base"), [
    ("http://127.0.0.1:8000", "http://127.0.0.1:8000/api/v1/"),
    ("http://127.0.0.1:8000/", "http://127.0.0.1:8000/api/v1/"),
    ("https://portal.example/api/v1/", "https://portal.example/api/v1/"),
    ("https://portal.example/prefix", "https://portal.example/prefix/api/v1/"),
])
def test_the_api_base_from_the_url_given(given, base):
    assert api_base(given) == base


def test_a_url_without_a_scheme_is_refused_in_words():
    with pytest.raises(Refused, match="must start with http:// or https://"):
        api_base("portal.example")


def test_the_batch_key_is_the_same_for_the_same_batch_and_row_keys_fit_the_portals_limit():
    key = bulk.batch_key_default(tenant_id=1, source="A", target="B", subscription_ids=[3, 1, 2])
    assert key == bulk.batch_key_default(tenant_id=1, source="A", target="B", subscription_ids=[1, 2, 3])
    assert key != bulk.batch_key_default(tenant_id=2, source="A", target="B", subscription_ids=[1, 2, 3])
    assert key != bulk.batch_key_default(tenant_id=1, source="A", target="C", subscription_ids=[1, 2, 3])
    assert bulk.row_key(key, 7) == f"{key}:7"
    long = bulk.row_key("k" * 300, 7)
    assert len(long) <= 255 and long.endswith(":7") and long == bulk.row_key("k" * 300, 7)


def test_flags_win_over_the_environment_which_wins_over_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("PORTAL_URL", raising=False)
    monkeypatch.delenv("PORTAL_TOKEN", raising=False)
    with pytest.raises(Refused, match="No portal URL"):
        settings_resolve(url=None, token=None)
    path = config_save(url="http://file", token="file-token")
    assert (path, oct(path.stat().st_mode & 0o777)) == (tmp_path / "portalctl" / "config.json", "0o600")
    assert settings_resolve(url=None, token=None) == ("http://file", "file-token")
    monkeypatch.setenv("PORTAL_URL", "http://env")
    monkeypatch.setenv("PORTAL_TOKEN", "env-token")
    assert settings_resolve(url=None, token=None) == ("http://env", "env-token")
    assert settings_resolve(url="http://flag", token="flag-token") == ("http://flag", "flag-token")
    path.write_text("{not json")
    monkeypatch.delenv("PORTAL_URL")
    with pytest.raises(Refused, match="can't be read"):
        settings_resolve(url=None, token="t")
