"""The support console's upload page: the form with what Graph doesn't say and its defaults, the import and
its result once (the admin login's password and token), a refusal beside the form in the reader's language,
the live progress (NDJSON lines as the import goes); support staff only."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from portal.models import Tenant
from tests.factories import TenantFactory, admin_of
from tests.helpers import page_text
from tests.simulation.conftest import counts, raw
from tests.simulation.tenants import DOMAIN, tenant_state

URL = "/support/tenants/import/"


def upload(content: bytes, **fields) -> dict:
    return {"file": SimpleUploadedFile("export.json", content, content_type="application/json"),
            "agreement": "MOSA", "kind": "commercial", "term": "P1Y", "billing_frequency": "monthly",
            "payment": "card", "admin": "", **fields}


@pytest.mark.django_db
def test_the_form_states_the_defaults(client, staff):
    page = client.get(URL)
    assert page.status_code == 200
    text = page_text(page)
    assert "Import a tenant from a Graph export" in text and "Graph doesn't say; default Microsoft Online Subscription Agreement" in text
    assert "Anonymize: replace names, user principal names and domains by pseudonyms" in text
    assert 'href="/support/tenants/import/"' in client.get("/support/tenants/").content.decode()


@pytest.mark.django_db
def test_an_import_shows_its_result_and_the_login_once(exported, client, staff):
    data, before = exported
    page = client.post(URL, upload(raw(data)))
    assert page.status_code == 200
    text = page_text(page)
    assert "Imported Rehearsal AB (rehearsal.example)" in text and "7 users." in text
    assert "The admin login, shown only now: Username: admin@rehearsal.example Password:" in text
    assert tenant_state(DOMAIN) == before


@pytest.mark.django_db
def test_a_refusal_is_shown_beside_the_form_in_swedish_and_nothing_is_written(client, staff):
    page = client.post(URL, upload(b"[1, 2"), HTTP_ACCEPT_LANGUAGE="sv")
    assert page.status_code == 400
    assert "Filen är inte JSON: Avgränsaren ',' väntades på rad 1, kolumn 6." in page_text(page)
    assert counts()[:3] == (0, 0, 0)


@pytest.mark.django_db
def test_a_tenant_admin_may_not(client):
    client.force_login(admin_of(TenantFactory()))
    assert client.get(URL).status_code == 403


@pytest.mark.django_db(transaction=True)
def test_the_progress_is_told_as_the_import_goes(exported, client, staff):
    data, _before = exported
    response = client.post(URL, upload(raw(data)), HTTP_ACCEPT="application/x-ndjson")
    assert response["Content-Type"] == "application/x-ndjson"
    events = [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]
    assert events[:3] == [{"stage": "read", "done": 0, "total": 1}, {"stage": "read", "done": 1, "total": 1},
                          {"stage": "users", "done": 0, "total": 7}]
    assert events[3:5] == [{"stage": "users", "done": 7, "total": 7}, {"stage": "done", "done": 7, "total": 7}]
    assert "Imported Rehearsal AB (rehearsal.example)" in events[5]["html"] and len(events) == 6
    assert Tenant.objects.filter(domain=DOMAIN).exists()
    again = client.post(URL, upload(raw(data)), HTTP_ACCEPT="application/x-ndjson")
    [*_progress, last] = [json.loads(line) for line in b"".join(again.streaming_content).decode().splitlines()]
    assert (last["status"], last["errors"]) == (409, []) and "--replace" in last["refused"]


@pytest.mark.django_db
def test_the_page_and_its_result_in_swedish(exported, client, staff):
    data, _before = exported
    text = page_text(client.get(URL, HTTP_ACCEPT_LANGUAGE="sv"))
    assert "Importera en organisation från en Graph-export" in text and "Graph säger det inte; standard Microsoft Online-prenumerationsavtal" in text
    text = page_text(client.post(URL, upload(raw(data)), HTTP_ACCEPT_LANGUAGE="sv"))
    assert "Importerade Rehearsal AB (rehearsal.example)" in text and "7 användare." in text
    assert "Administratörsinloggningen, visas bara nu:" in text
