"""Webhooks through a real Celery worker process: a plan change requested through the API runs on
the worker, whose commits wake the fan-out by task name; a receiver in the test gets
``plan_change.completed`` with a valid Standard Webhooks signature. Retries wake the worker again
on their own (countdown), and a wake the broker lost is found by beat's fan-out."""

import json
from datetime import date

import pytest
from rest_framework.test import APIClient
from standardwebhooks import Webhook

from planchange.models import PlanChange
from portal import clock
from tests.factories import admin_of, mosa_standard, token_for
from tests.webhooks.receiver import receiver
from tests.worker import celery_worker, wait_for
from webhooks.models import Attempt, Delivery

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def contoso(settings):
    settings.PORTAL_WEBHOOKS_ALLOW_PRIVATE = True
    clock.set_date(date(2026, 6, 16))
    tenant, card, std, users = mosa_standard(users=4)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(admin_of(tenant))}")
    return api, std


def test_a_receiver_gets_plan_change_completed_with_a_valid_signature_from_a_real_worker(contoso, tmp_path):
    api, std = contoso
    with receiver() as hook, celery_worker(tmp_path / "worker.log", PORTAL_WEBHOOKS_ALLOW_PRIVATE="1"):
        added = api.post("/api/v1/webhooks/", {"url": hook.url, "events": ["plan_change.completed"]}, format="json")
        assert added.status_code == 201, added.json()
        secret = added.json()["secret"]
        response = api.post("/api/v1/plan-changes/", {"subscription": std.pk, "target_sku": "SPB"}, format="json",
                            HTTP_IDEMPOTENCY_KEY="webhook-e2e")
        assert response.status_code == 202
        wait_for(lambda: hook.bodies_of("plan_change.completed"), timeout=60,
                 what="the receiver to get plan_change.completed")
    (request,) = hook.requests  # only the type it chose, once
    payload = Webhook(secret).verify(request["body"], request["headers"])
    change = PlanChange.objects.get()
    assert (payload["type"], payload["data"]["plan_change"]["id"], payload["data"]["plan_change"]["status"]) == (
        "plan_change.completed", change.pk, "completed")
    assert change.status == "completed"
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.message_id) == ("delivered", request["headers"]["webhook-id"])
    assert list(Attempt.objects.values_list("status_code", flat=True)) == [200]
    deliveries = api.get(f"/api/v1/webhooks/{delivery.endpoint_id}/deliveries/").json()["results"]
    assert [a["status_code"] for a in deliveries[0]["attempts"]] == [200]


def test_a_worker_retries_on_its_own_until_the_fourth_try_gets_through(contoso, tmp_path):
    api, std = contoso
    with receiver(statuses=[500, 500, 500, 200]) as hook, celery_worker(
            tmp_path / "worker.log", PORTAL_WEBHOOKS_ALLOW_PRIVATE="1", PORTAL_WEBHOOKS_RETRY_SCHEDULE="0.5,0.5,0.5"):
        endpoint = api.post("/api/v1/webhooks/", {"url": hook.url, "events": ["invoice.created"]},
                            format="json").json()
        test = api.post(f"/api/v1/webhooks/{endpoint['id']}/test/").json()
        wait_for(lambda: Delivery.objects.get(pk=test["id"]).status != "pending", timeout=60,
                 what="the test event to be delivered")
    assert Delivery.objects.get(pk=test["id"]).status == "delivered"
    assert [r["headers"]["webhook-id"] for r in hook.requests] == [test["message_id"]] * 4
    assert json.loads(hook.requests[0]["body"])["type"] == "webhook.test"
    assert list(Attempt.objects.order_by("number").values_list("number", "status_code")) == [
        (1, 500), (2, 500), (3, 500), (4, 200)]
