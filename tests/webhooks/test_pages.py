"""Settings > Webhooks in the browser: add (the secret shown once), list with failing ones shown,
deliveries with each attempt, Send test event, Resend, delete with confirmation; Global admins
change, other roles read; another tenant's webhook is a 404."""

import pytest
from django.test import Client
from django.utils import timezone

from tests.factories import TenantFactory, admin_of, mosa_standard, webhook_endpoint
from tests.helpers import page_text
from webhooks.models import Attempt, Delivery, Endpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def contoso(at_date):
    at_date("2026-06-16")
    tenant, _card, _std, _users = mosa_standard()
    client = Client()
    client.force_login(admin_of(tenant))
    return tenant, client


def test_adding_a_webhook_shows_its_secret_once(contoso):
    tenant, client = contoso
    response = client.post("/settings/webhooks/", {"url": "https://93.184.215.14/hook", "description": "ERP",
                                                   "events": ["plan_change.completed", "invoice.created"]})
    endpoint = Endpoint.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/settings/webhooks/{endpoint.pk}/"
    assert endpoint.events == ["plan_change.completed", "invoice.created"]
    first = client.get(response["Location"])
    assert endpoint.secret in first.content.decode()
    # Never kept by a cache (Back would show it again), and a Copy button beside it (probe2).
    assert first["Cache-Control"] == "no-store"
    assert f'<input id="webhook-secret-value" class="secret" type="text" readonly value="{endpoint.secret}"' in (
        first.content.decode())
    assert 'data-copy="webhook-secret-value"' in first.content.decode()
    again = client.get(response["Location"])
    assert endpoint.secret not in again.content.decode() and "whsec_" not in again.content.decode()
    assert endpoint.secret not in client.get("/settings/webhooks/").content.decode()


def test_a_loopback_url_is_refused_beside_the_field(contoso, settings):
    settings.PORTAL_WEBHOOKS_ALLOW_PRIVATE = False
    tenant, client = contoso
    response = client.post("/settings/webhooks/", {"url": "http://127.0.0.1:8000/hook", "events": ["invoice.created"]})
    assert response.status_code == 422
    assert "loopback, private or reserved" in page_text(response)
    assert not Endpoint.objects.exists()
    response = client.post("/settings/webhooks/", {"url": "https://93.184.215.14/hook", "events": ["nope"]})
    assert response.status_code == 422 and "Choose one or more event types from the list" in page_text(response)


def test_the_endpoint_page_lists_deliveries_with_each_attempt_and_resends(contoso):
    tenant, client = contoso
    endpoint = webhook_endpoint(tenant)
    delivery = Delivery.objects.create(endpoint=endpoint, message_id="msg_abc", type="plan_change.completed",
                                       body="{}", status="failed")
    for number, code in ((1, 500), (2, 502)):
        Attempt.objects.create(delivery=delivery, number=number, attempted_at=timezone.now(), status_code=code)
    response = client.get(f"/settings/webhooks/{endpoint.pk}/")
    text = page_text(response)
    assert "msg_abc" in text and "HTTP 500" in text and "HTTP 502" in text
    resend = client.post(f"/settings/webhooks/{endpoint.pk}/deliveries/{delivery.pk}/resend/")
    assert resend.status_code == 302
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 0)
    test = client.post(f"/settings/webhooks/{endpoint.pk}/test/")
    assert test.status_code == 302 and Delivery.objects.filter(type="webhook.test").count() == 1


def test_a_failing_webhook_is_shown_on_the_list(contoso):
    tenant, client = contoso
    webhook_endpoint(tenant, status="failing", failing_since=timezone.now())
    response = client.get("/settings/webhooks/")
    assert 'data-testid="webhooks-failing"' in response.content.decode()
    assert "1 webhook is failing" in page_text(response)


def test_delete_asks_for_confirmation(contoso):
    tenant, client = contoso
    endpoint = webhook_endpoint(tenant)
    assert client.get(f"/settings/webhooks/{endpoint.pk}/delete/").status_code == 200
    assert client.post(f"/settings/webhooks/{endpoint.pk}/delete/", {}).status_code == 302
    assert Endpoint.objects.exists()
    response = client.post(f"/settings/webhooks/{endpoint.pk}/delete/", {"confirm": "yes"})
    assert response["Location"] == "/settings/webhooks/" and not Endpoint.objects.exists()


def test_a_reader_sees_webhooks_but_cannot_change_them(contoso):
    tenant, _client = contoso
    endpoint = webhook_endpoint(tenant)
    reader = Client()
    reader.force_login(admin_of(tenant, "global_reader"))
    page = reader.get("/settings/webhooks/")
    assert page.status_code == 200 and endpoint.url in page_text(page)
    assert 'name="url"' not in page.content.decode()
    assert "Send test event" not in page_text(reader.get(f"/settings/webhooks/{endpoint.pk}/"))
    # The delete page says why its button is off, as checkout does (probe2: it offered a live button).
    confirm = reader.get(f"/settings/webhooks/{endpoint.pk}/delete/").content.decode()
    assert '<button type="submit" class="danger" disabled aria-describedby="delete-role">' in confirm
    assert "Your admin role can see the webhooks but not change them." in confirm
    for path, data in (("/settings/webhooks/", {"url": "https://93.184.215.14/x", "events": ["invoice.created"]}),
                       (f"/settings/webhooks/{endpoint.pk}/test/", {}),
                       (f"/settings/webhooks/{endpoint.pk}/delete/", {"confirm": "yes"})):
        assert reader.post(path, data).status_code == 403
    assert Endpoint.objects.count() == 1 and not Delivery.objects.exists()


def test_another_tenants_webhook_is_a_404(contoso):
    tenant, client = contoso
    theirs = webhook_endpoint(TenantFactory(name="Fabrikam", domain="fabrikam.example"))
    for method, path in (("get", f"/settings/webhooks/{theirs.pk}/"), ("post", f"/settings/webhooks/{theirs.pk}/test/"),
                         ("get", f"/settings/webhooks/{theirs.pk}/delete/"),
                         ("post", f"/settings/webhooks/{theirs.pk}/delete/")):
        assert getattr(client, method)(path, {"confirm": "yes"} if method == "post" else None).status_code == 404
    assert Endpoint.objects.filter(pk=theirs.pk).exists()


def test_the_settings_section_is_in_the_navigation(contoso):
    tenant, client = contoso
    assert '<a href="/settings/api-tokens/">Settings</a>' in client.get("/").content.decode()
    # Within Settings, both of its pages are listed and the webhooks' is the current one.
    page = client.get("/settings/webhooks/").content.decode()
    assert 'href="/settings/api-tokens/"' in page
    assert '<a href="/settings/webhooks/" aria-current="page" class="current">Webhooks</a>' in page
