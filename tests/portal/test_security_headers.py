"""The security headers every response carries (the CSP is exercised in Chromium by
tests/browser/test_content_security_policy.py)."""

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db

POLICY = {
    "default-src": "'self'", "script-src": "'self'", "style-src": "'self'", "img-src": "'self' data:",
    "font-src": "'self'", "connect-src": "'self'", "object-src": "'none'", "base-uri": "'self'",
    "form-action": "'self'", "frame-ancestors": "'none'",
}


def policy(response) -> dict:
    return dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))


def test_pages_and_the_api_carry_the_strict_policy(client, api):
    for response in (client.get("/login/"), client.get("/api/docs/"), api.get("/api/v1/me/")):
        assert policy(response) == POLICY
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"


def test_redoc_alone_gets_a_nonce_two_hashes_a_blob_worker_and_its_logo():
    from django.test import Client

    response = Client().get("/api/redoc/")
    got = policy(response)
    nonce = re.fullmatch(r"'self' 'nonce-([\w+/=]+)' 'sha256-47DEQpj8HBSa\+/TImW\+5JCeuQeRkm5NMpJWZG3hSuFU=' "
                         r"'sha256-QMIg\+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='", got.pop("style-src"))[1]
    others = {name: value for name, value in POLICY.items() if name != "style-src"}
    assert got == {**others, "img-src": "'self' data: https://cdn.redoc.ly", "worker-src": "'self' blob:"}
    assert f'nonce="{nonce}"' in response.content.decode()  # on the script that hands it to ReDoc


def test_no_template_has_inline_script_style_or_event_handlers():
    for template in Path("templates").rglob("*.html"):
        text = re.sub(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", "", template.read_text(), flags=re.S)
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template
        assert not re.search(r"<style|\sstyle=|\son[a-z]+=", text), template


STRICT = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
          "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def test_the_policy_names_its_directives_in_the_settings_order(client, api):
    # django-csp writes them in a set's order, another in each process (PYTHONHASHSEED): gunicorn's workers answered
    # the same request with different bytes.
    assert client.get("/login/")["Content-Security-Policy"] == STRICT
    assert api.get("/api/v1/me/")["Content-Security-Policy"] == STRICT


def test_a_view_that_adds_directives_gets_them_after_the_settings_ones():
    from django.test import Client

    header = Client().get("/api/redoc/")["Content-Security-Policy"]
    assert re.fullmatch(
        r"default-src 'self'; script-src 'self'; style-src 'self' 'nonce-[\w+/=]+' 'sha256-[\w+/=]+' 'sha256-[\w+/=]+'; "
        r"img-src 'self' data: https://cdn\.redoc\.ly; font-src 'self'; connect-src 'self'; object-src 'none'; "
        r"base-uri 'self'; form-action 'self'; frame-ancestors 'none'; worker-src 'self' blob:", header), header


def test_the_settings_policy_is_built_once_and_again_when_the_settings_change(client, settings, monkeypatch):
    from portal import security

    built = []
    monkeypatch.setattr(security, "build_policy", lambda **parts: built.append(parts) or real(**parts))
    real = __import__("csp.utils", fromlist=["build_policy"]).build_policy
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'self'"], "img-src": ["'self'", "data:"]}}
    assert client.get("/login/")["Content-Security-Policy"] == "default-src 'self'; img-src 'self' data:"
    assert len(built) == 2  # the policy and the (empty) report-only one
    assert client.get("/login/")["Content-Security-Policy"] == "default-src 'self'; img-src 'self' data:"
    assert client.get("/api/docs/")["Content-Security-Policy"] == "default-src 'self'; img-src 'self' data:"
    assert len(built) == 2
    client.get("/api/redoc/")  # its own directives and a nonce: built for its response (the report-only one too)
    assert len(built) == 4
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    assert client.get("/login/")["Content-Security-Policy"] == "default-src 'none'"
