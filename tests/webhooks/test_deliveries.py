"""Deliveries: made from the audit trail once per endpoint and event, signed per Standard Webhooks
(checked with the standardwebhooks library), retried on the schedule, logged attempt by attempt,
redirects not followed, the endpoint marked failing after the last retry, SSRF checked again at send."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks import Webhook

from planchange import workflow
from planchange.models import PlanChange
from planchange.services import plan_change_request
from portal.models import Event
from portal.services import event_record
from tests.factories import admin_of, mosa_standard, webhook_endpoint
from tests.webhooks.receiver import receiver
from webhooks.events import PLAN_CHANGE_TYPES
from webhooks.models import Attempt, Delivery, Endpoint
from webhooks.services import delivery_attempt, delivery_resend, fan_out

pytestmark = pytest.mark.django_db


@pytest.fixture
def contoso(at_date, settings):
    at_date("2026-06-16")
    settings.PORTAL_WEBHOOKS_ALLOW_PRIVATE = True  # the receivers listen on 127.0.0.1
    settings.PORTAL_WEBHOOKS_TIMEOUT = 2.0
    tenant, card, std, users = mosa_standard(users=3)
    return tenant, std, admin_of(tenant)


def send_due() -> list[tuple[int, str]]:
    """What the tasks do: fan out, then one attempt at each due delivery."""
    return [(delivery_id, delivery_attempt(delivery_id)[0]) for delivery_id in fan_out()]


def test_a_plan_change_sends_queued_running_and_completed_each_signed(contoso):
    tenant, std, admin = contoso
    with receiver() as hook:
        endpoint = webhook_endpoint(tenant, url=hook.url, events=PLAN_CHANGE_TYPES)
        change = plan_change_request(tenant=tenant, user=admin, subscription_id=std.pk, target_sku="SPB")
        assert workflow.run(change.pk) == "completed"
        assert {outcome for _id, outcome in send_due()} == {"delivered"}
    types = [json.loads(r["body"])["type"] for r in hook.requests]
    assert sorted(types) == ["plan_change.completed", "plan_change.queued", "plan_change.running"]
    for request in hook.requests:
        payload = Webhook(endpoint.secret).verify(request["body"], request["headers"])  # raises if not valid
        assert payload["id"] == request["headers"]["webhook-id"] and payload["id"].startswith("msg_")
        assert payload["data"]["plan_change"]["id"] == change.pk
    completed = json.loads(hook.bodies_of("plan_change.completed")[0]["body"])
    assert completed["data"]["plan_change"]["status"] == "completed"
    assert completed["data"]["plan_change"]["new_subscription"] == PlanChange.objects.get().new_subscription_id
    assert completed["data"]["plan_change"]["into_subscription"] is None  # it made a new one
    assert completed["created_at"].startswith("2026-06-16")  # when it happened, in simulation time
    # Fanned out again (beat, a second wake): nothing new, nothing sent twice.
    assert send_due() == [] and Delivery.objects.count() == 3


def test_the_signature_is_hmac_sha256_of_id_timestamp_body_with_the_decoded_secret(contoso):
    import base64
    import hashlib
    import hmac

    tenant, std, admin = contoso
    with receiver() as hook:
        endpoint = webhook_endpoint(tenant, url=hook.url)
        event_record(tenant=tenant, actor="t", verb="subscription.renewed", obj=std, data={})
        send_due()
    (request,) = hook.requests
    headers = request["headers"]
    key = base64.b64decode(endpoint.secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.{request['body']}".encode()
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert headers["webhook-signature"] == f"v1,{expected}"
    assert abs(int(headers["webhook-timestamp"]) - timezone.now().timestamp()) < 60  # real time, not the clock's
    assert json.loads(request["body"])["type"] == "subscription.updated"
    with pytest.raises(Exception, match="No matching signature"):
        Webhook(endpoint.secret).verify(request["body"].replace("renewed", "expired"), headers)


def test_a_receiver_answering_500_three_times_gets_the_event_on_the_fourth_try(contoso, settings):
    settings.PORTAL_WEBHOOKS_RETRY_SCHEDULE = [5, 300, 1800, 7200]
    tenant, std, admin = contoso
    with receiver(statuses=[500, 500, 500, 200]) as hook:
        endpoint = webhook_endpoint(tenant, url=hook.url, events=["plan_change.completed"])
        change = plan_change_request(tenant=tenant, user=admin, subscription_id=std.pk, target_sku="SPB")
        workflow.run(change.pk)
        (delivery_id,) = fan_out()
        for attempt, wait in enumerate([5, 300, 1800], start=1):
            before = timezone.now()
            assert delivery_attempt(delivery_id) == ("retry", wait)
            delivery = Delivery.objects.get(pk=delivery_id)
            # Not due before its time: a worker woken early sends nothing.
            assert delivery.next_attempt_at - before >= timedelta(seconds=wait)
            assert delivery_attempt(delivery_id) == ("not_due", None)
            assert fan_out() == []
            Delivery.objects.filter(pk=delivery_id).update(next_attempt_at=timezone.now())  # its time comes
            assert len(hook.requests) == attempt
        assert delivery_attempt(delivery_id) == ("delivered", None)
    assert len(hook.requests) == 4
    assert len({r["headers"]["webhook-id"] for r in hook.requests}) == 1  # one message, four attempts
    assert all(Webhook(endpoint.secret).verify(r["body"], r["headers"]) for r in hook.requests)
    assert json.loads(hook.requests[-1]["body"])["type"] == "plan_change.completed"
    assert list(Attempt.objects.filter(delivery_id=delivery_id).values_list("number", "status_code")) == [
        (1, 500), (2, 500), (3, 500), (4, 200)]
    assert Delivery.objects.get(pk=delivery_id).status == "delivered"
    assert Endpoint.objects.get().status == "active"


def test_after_the_last_retry_the_delivery_fails_and_the_endpoint_is_failing_until_one_gets_through(contoso, settings):
    settings.PORTAL_WEBHOOKS_RETRY_SCHEDULE = [0, 0]
    tenant, std, admin = contoso
    with receiver(statuses=[503, 503, 503, 204]) as hook:
        endpoint = webhook_endpoint(tenant, url=hook.url)
        event_record(tenant=tenant, actor="t", verb="subscription.renewed", obj=std, data={})
        (delivery_id,) = fan_out()
        assert [delivery_attempt(delivery_id)[0] for _ in range(3)] == ["retry", "retry", "failed"]
        assert delivery_attempt(delivery_id) == ("done", None)  # nothing more
        endpoint.refresh_from_db()
        assert (endpoint.status, endpoint.failing_since is not None) == ("failing", True)
        assert Event.objects.get(verb="webhook.failing").data["attempts"] == 3
        # Resend: the same message, a new round; it gets through and the endpoint is active again.
        delivery_resend(tenant=tenant, endpoint_id=endpoint.pk, delivery_id=delivery_id, actor="admin")
        assert delivery_attempt(delivery_id) == ("delivered", None)
    endpoint.refresh_from_db()
    assert (endpoint.status, endpoint.failing_since) == ("active", None)
    assert Event.objects.filter(verb="webhook.recovered").count() == 1
    assert len({r["headers"]["webhook-id"] for r in hook.requests}) == 1 and len(hook.requests) == 4


def test_a_redirect_is_not_followed_and_counts_as_a_failure(contoso):
    tenant, std, admin = contoso
    with receiver() as elsewhere, receiver(statuses=[302], headers={"Location": "REPLACED"}) as hook:
        hook.extra_headers["Location"] = elsewhere.url
        webhook_endpoint(tenant, url=hook.url)
        event_record(tenant=tenant, actor="t", verb="subscription.renewed", obj=std, data={})
        assert [outcome for _id, outcome in send_due()] == ["retry"]
    assert len(hook.requests) == 1 and elsewhere.requests == []
    attempt = Attempt.objects.get()
    assert attempt.status_code == 302 and "not followed" in attempt.error


def test_a_host_that_turned_private_is_refused_at_send_time(contoso, settings):
    tenant, std, admin = contoso
    with receiver() as hook:
        webhook_endpoint(tenant, url=hook.url)  # accepted while private targets were allowed
        settings.PORTAL_WEBHOOKS_ALLOW_PRIVATE = False
        event_record(tenant=tenant, actor="t", verb="subscription.renewed", obj=std, data={})
        assert [outcome for _id, outcome in send_due()] == ["retry"]
    assert hook.requests == []
    attempt = Attempt.objects.get()
    assert attempt.status_code is None and "loopback, private or reserved" in attempt.error


def test_a_receiver_that_never_answers_times_out(contoso, settings):
    import socket

    settings.PORTAL_WEBHOOKS_TIMEOUT = 0.5
    tenant, std, admin = contoso
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # accepts, never answers
        webhook_endpoint(tenant, url=f"http://127.0.0.1:{silent.getsockname()[1]}/hook")
        event_record(tenant=tenant, actor="t", verb="subscription.renewed", obj=std, data={})
        assert [outcome for _id, outcome in send_due()] == ["retry"]
    assert "no answer within 0.5 s" in Attempt.objects.get().error


def test_each_endpoint_gets_only_its_types_and_only_events_after_it_was_added(contoso):
    tenant, std, admin = contoso
    event_record(tenant=tenant, actor="t", verb="subscription.renewed", obj=std, data={})  # before any endpoint
    invoices = webhook_endpoint(tenant, url="http://127.0.0.1:9/invoices", events=["invoice.created"])
    everything = webhook_endpoint(tenant, url="http://127.0.0.1:9/all")
    event_record(tenant=tenant, actor="t", verb="subscription.expired", obj=std, data={})
    event_record(tenant=tenant, actor="t", verb="licenses.assigned", obj=std, data={})  # makes no webhook
    other, _card, other_sub, _users = mosa_standard(name="Fabrikam", domain="fabrikam.example")
    event_record(tenant=other, actor="t", verb="subscription.expired", obj=other_sub, data={})
    fan_out()
    fan_out()
    assert list(Delivery.objects.values_list("endpoint_id", "type")) == [(everything.pk, "subscription.updated")]
    assert not Delivery.objects.filter(endpoint=invoices).exists()


def test_plan_change_types_follow_the_change(contoso):
    from webhooks.events import webhook_type

    assert webhook_type("plan_change.requested", {"schedule": "renewal"}) == "plan_change.scheduled"
    assert webhook_type("plan_change.requested", {"schedule": "now"}) == "plan_change.queued"
    assert webhook_type("plan_change.started", {}) == "plan_change.queued"
    assert webhook_type("plan_change.running", {}) == "plan_change.running"
    assert webhook_type("plan_change.step.complete", {}) == "plan_change.completed"
    assert webhook_type("plan_change.step.bill", {}) is None
    assert webhook_type("plan_change.failed", {}) == "plan_change.failed"
    assert webhook_type("plan_change.cancelled", {}) == "plan_change.cancelled"
    assert webhook_type("invoice.created", {}) == "invoice.created"
    assert webhook_type("invoice.paid", {}) is None
    assert webhook_type("subscription.bought", {}) == "subscription.created"
    assert webhook_type("subscription.licenses_changed", {}) == "subscription.updated"


def test_the_day_loops_events_written_together_still_wake_the_fan_out(contoso, django_capture_on_commit_callbacks):
    """The day loop writes a day's invoices and their audit events in one statement each
    (``portal.services.events_record``): the listeners are told of each, so the commit wakes the fan-out,
    and the invoice's ``invoice.created`` is delivered."""
    from simulation.moves import clock_move
    from webhooks.outbox import _flush

    tenant, std, admin = contoso
    invoices = webhook_endpoint(tenant, url="http://127.0.0.1:9/invoices", events=["invoice.created"])
    with django_capture_on_commit_callbacks() as callbacks:
        clock_move(actor="support", days=20)  # 2026-06-16 → 07-06: the period of the 1st of July is invoiced
    assert _flush in callbacks
    created = Event.objects.get(tenant=tenant, verb="invoice.created")
    fan_out()
    assert list(Delivery.objects.filter(endpoint=invoices).values_list("type", "event_id")) == [
        ("invoice.created", created.pk)]
