"""webhooks/ in the API: add (the secret once), list, delete, test, deliveries; the URL checks
(SSRF: loopback and private targets refused unless PORTAL_WEBHOOKS_ALLOW_PRIVATE), roles, tenants."""

import pytest
from rest_framework.test import APIClient

from portal.models import Event
from tests.factories import TenantFactory, admin_of, mosa_standard, token_for, webhook_endpoint
from webhooks.models import Delivery, Endpoint

pytestmark = pytest.mark.django_db

PUBLIC = "https://93.184.215.14/portal-hooks"  # an address on the internet: no DNS needed


def client_for(user) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    return api


@pytest.fixture
def contoso(at_date):
    at_date("2026-06-16")
    tenant, _card, std, _users = mosa_standard(users=2)
    return tenant, client_for(admin_of(tenant))


def test_adding_a_webhook_answers_its_secret_once(contoso):
    tenant, api = contoso
    response = api.post("/api/v1/webhooks/", {"url": PUBLIC, "events": ["plan_change.failed", "plan_change.completed"],
                                              "description": "Tell the ERP"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    endpoint = Endpoint.objects.get()
    assert body["secret"].startswith("whsec_") and body["secret"] == endpoint.secret
    assert response["Cache-Control"] == "no-store"  # no cache keeps it (probe2)
    assert (body["url"], body["events"], body["description"], body["status"]) == (
        PUBLIC, ["plan_change.completed", "plan_change.failed"], "Tell the ERP", "active")
    # Never again: not in the list, not in the endpoint, not in the audit trail.
    listed = api.get("/api/v1/webhooks/").json()["results"]
    assert [w["id"] for w in listed] == [endpoint.pk] and "secret" not in listed[0]
    assert "secret" not in api.get(f"/api/v1/webhooks/{endpoint.pk}/").json()
    created = Event.objects.get(verb="webhook.created")
    assert endpoint.secret not in str(created.data) and created.data["url"] == PUBLIC


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/hook", "http://localhost/hook", "http://[::1]/hook", "http://10.1.2.3/hook",
    "http://192.168.0.10/hook", "http://169.254.169.254/latest/meta-data/", "http://100.64.0.1/",
    "http://0.0.0.0/", "http://2130706433/", "http://[::ffff:127.0.0.1]/", "http://224.0.0.1/",
    # Probed (probe2): octal and hex forms, IPv4 in IPv6, and names that are loopback by definition (RFC 6761)
    # whether or not this machine's resolver answers for them.
    "http://0177.0.0.1/", "http://0x7f.1/", "http://[::ffff:a9fe:a9fe]/", "http://[64:ff9b::7f00:1]/",
    "http://localhost./hook", "http://LOCALHOST.:8080/", "http://app.localhost/", "http://app.localhost./",
])
def test_a_loopback_or_private_url_is_refused_without_the_development_setting(contoso, settings, url):
    settings.PORTAL_WEBHOOKS_ALLOW_PRIVATE = False
    tenant, api = contoso
    response = api.post("/api/v1/webhooks/", {"url": url, "events": ["plan_change.completed"]}, format="json")
    assert (response.status_code, response.json()["code"]) == (422, "webhook_url_private"), response.json()
    assert response["Content-Type"] == "application/problem+json"
    assert not Endpoint.objects.exists() and not Event.objects.filter(verb="webhook.created").exists()


def test_a_name_that_resolves_to_loopback_is_refused(contoso, settings, monkeypatch):
    import socket

    settings.PORTAL_WEBHOOKS_ALLOW_PRIVATE = False
    real = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: real(
        "127.0.0.1" if host == "rebind.contoso.example" else host, *a, **k))
    tenant, api = contoso
    response = api.post("/api/v1/webhooks/", {"url": "https://rebind.contoso.example/hook", "events": ["invoice.created"]},
                        format="json")
    assert (response.status_code, response.json()["code"]) == (422, "webhook_url_private")
    assert "rebind.contoso.example" in response.json()["detail"] and not Endpoint.objects.exists()


def test_the_development_setting_allows_a_loopback_url(contoso, settings):
    settings.PORTAL_WEBHOOKS_ALLOW_PRIVATE = True
    tenant, api = contoso
    response = api.post("/api/v1/webhooks/", {"url": "http://127.0.0.1:8080/hook", "events": ["invoice.created"]},
                        format="json")
    assert response.status_code == 201


BAD_URLS = ["ftp://93.184.215.14/x", "https://user:pw@93.184.215.14/x", "javascript:alert(1)", "https://exa mple.com/",
            "https://bad_host.example/", "http://[fe80::1%25eth0]/",  # a zone: never public
            "https://bücher.example/"]


@pytest.mark.parametrize("url", BAD_URLS)
def test_text_that_isnt_a_webhook_url_is_a_422_and_adds_nothing(contoso, url):
    """Text the schema can't tell from a URL is the service's to refuse: 422 webhook_url_invalid on the url."""
    tenant, api = contoso
    response = api.post("/api/v1/webhooks/", {"url": url, "events": ["invoice.created"]}, format="json")
    assert (response.status_code, response.json()["code"], response.json()["field"]) == (
        422, "webhook_url_invalid", "url"), response.json()
    assert not Endpoint.objects.exists()


@pytest.mark.parametrize(("body", "field"), [
    ({"url": "https://" + "a" * 2000 + ".example/", "events": ["invoice.created"]}, "url"),
    ({"url": 12345, "events": ["invoice.created"]}, "url"),
    ({"url": PUBLIC, "events": ["plan_change.exploded"]}, "events"),
    ({"url": PUBLIC, "events": []}, "events"),
    ({"url": PUBLIC, "events": "plan_change.completed"}, "events"),
    ({"url": PUBLIC, "events": ["invoice.created"], "description": "x" * 501}, "description"),
    ({"url": PUBLIC, "events": ["invoice.created"], "description": "evil\u202etxt"}, "description"),
    ({"url": PUBLIC, "events": ["invoice.created"], "description": 0}, "description"),  # text, not a number
    ({"events": ["invoice.created"]}, "url"),
])
def test_a_request_off_the_schema_is_a_400_and_adds_nothing(contoso, body, field):
    tenant, api = contoso
    response = api.post("/api/v1/webhooks/", body, format="json")
    assert (response.status_code, response.json()["code"]) == (400, "invalid"), response.json()
    assert field in response.json()["errors"]
    assert not Endpoint.objects.exists()


def test_a_unicode_host_is_told_to_use_its_xn_form(contoso):
    tenant, api = contoso
    response = api.post("/api/v1/webhooks/", {"url": "https://bücher.example/hook", "events": ["invoice.created"]},
                        format="json", HTTP_ACCEPT_LANGUAGE="sv")
    assert (response.status_code, response.json()["field"]) == (422, "url")
    assert response.json()["detail"] == (
        "Skriv URL:en med ASCII-tecken: ett internationellt domännamn i sin xn--form, andra tecken procentkodade.")


def test_another_tenants_webhook_is_a_404_everywhere(contoso):
    tenant, api = contoso
    theirs = webhook_endpoint(TenantFactory(name="Fabrikam", domain="fabrikam.example"))
    delivery = Delivery.objects.create(endpoint=theirs, message_id="msg_theirs", type="webhook.test", body="{}",
                                       status="delivered")
    for method, path in (("get", f"/api/v1/webhooks/{theirs.pk}/"), ("delete", f"/api/v1/webhooks/{theirs.pk}/"),
                         ("post", f"/api/v1/webhooks/{theirs.pk}/test/"),
                         ("get", f"/api/v1/webhooks/{theirs.pk}/deliveries/"),
                         ("get", f"/api/v1/webhooks/{theirs.pk}/deliveries/{delivery.pk}/"),
                         ("post", f"/api/v1/webhooks/{theirs.pk}/deliveries/{delivery.pk}/resend/")):
        response = getattr(api, method)(path)
        assert (response.status_code, response.json()["code"]) == (404, "webhook_not_found"), (method, path)
    assert api.get("/api/v1/webhooks/").json()["results"] == []
    assert Endpoint.objects.filter(pk=theirs.pk).exists() and Delivery.objects.count() == 1


def test_a_delivery_of_another_endpoint_is_a_404(contoso):
    tenant, api = contoso
    mine, other = webhook_endpoint(tenant), webhook_endpoint(tenant, url="https://93.184.215.14/other")
    delivery = Delivery.objects.create(endpoint=other, message_id="msg_other", type="webhook.test", body="{}",
                                       status="delivered")
    response = api.post(f"/api/v1/webhooks/{mine.pk}/deliveries/{delivery.pk}/resend/")
    assert response.status_code == 404


@pytest.mark.parametrize("role", ["global_reader", "billing_admin", "license_admin"])
def test_only_a_global_admin_changes_webhooks_others_read_them(contoso, role):
    tenant, _api = contoso
    endpoint = webhook_endpoint(tenant)
    api = client_for(admin_of(tenant, role))
    assert api.get("/api/v1/webhooks/").json()["count"] == 1
    assert api.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries/").status_code == 200
    for response in (api.post("/api/v1/webhooks/", {"url": PUBLIC, "events": ["invoice.created"]}, format="json"),
                     api.delete(f"/api/v1/webhooks/{endpoint.pk}/"), api.post(f"/api/v1/webhooks/{endpoint.pk}/test/")):
        assert response.status_code == 403
    assert Endpoint.objects.count() == 1 and not Delivery.objects.exists()


def test_delete_removes_the_endpoint_and_its_deliveries(contoso):
    tenant, api = contoso
    endpoint = webhook_endpoint(tenant)
    Delivery.objects.create(endpoint=endpoint, message_id="msg_1", type="webhook.test", body="{}")
    assert api.delete(f"/api/v1/webhooks/{endpoint.pk}/").status_code == 204
    assert not Endpoint.objects.exists() and not Delivery.objects.exists()
    assert Event.objects.get(verb="webhook.deleted").data == {"url": endpoint.url}


def test_send_test_event_makes_a_pending_test_delivery(contoso):
    tenant, api = contoso
    endpoint = webhook_endpoint(tenant, events=["invoice.created"])
    response = api.post(f"/api/v1/webhooks/{endpoint.pk}/test/")
    assert response.status_code == 202
    body = response.json()
    assert (body["type"], body["status"], body["attempts"], body["webhook"]) == ("webhook.test", "pending", [],
                                                                                 endpoint.pk)
    assert body["payload"]["id"] == body["message_id"] and body["payload"]["type"] == "webhook.test"
    listed = api.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries/").json()
    assert [d["id"] for d in listed["results"]] == [body["id"]]


def test_a_tenant_has_at_most_twenty_webhooks(contoso):
    tenant, api = contoso
    for n in range(20):
        webhook_endpoint(tenant, url=f"https://93.184.215.14/{n}")
    response = api.post("/api/v1/webhooks/", {"url": PUBLIC, "events": ["invoice.created"]}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "webhook_limit")
