"""POST plan-changes/ and friends: Idempotency-Key, quotes, concurrency, the support clock."""

from datetime import date, timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from billing.models import Subscription
from planchange import workflow
from planchange.models import IdempotencyRecord, PlanChange
from portal import clock
from tests.factories import (
    BillingProfileFactory,
    LoginFactory,
    SubscriptionFactory,
    admin_of,
    mosa_standard,
    product,
    token_for,
)
from tests.helpers import concurrently


@pytest.fixture
def contoso(at_date):
    at_date("2026-06-16")
    tenant, _card, std, _users = mosa_standard(users=5)
    admin = admin_of(tenant)
    return tenant, admin, std


def client_for(user) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    return api


def post_change(api, body, key):
    return api.post("/api/v1/plan-changes/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


@pytest.mark.django_db
def test_request_answers_202_with_the_change(contoso):
    _, admin, std = contoso
    response = post_change(client_for(admin), {"subscription": std.pk, "target_sku": "SPB"}, "k-1")
    assert response.status_code == 202
    body = response.json()
    assert (body["status"], body["subscription"], body["target_sku"], body["licenses"], body["schedule"]) == (
        "queued", std.pk, "SPB", 25, "now")
    assert [s["name"] for s in body["steps"]] == ["validate", "provision", "migrate_licenses", "bill",
                                                  "cancel_source", "complete"]
    assert body["error"] is None


@pytest.mark.django_db
def test_the_same_key_and_body_replays_the_first_answer(contoso):
    _, admin, std = contoso
    api = client_for(admin)
    first = post_change(api, {"subscription": std.pk, "target_sku": "SPB"}, "k-1")
    again = post_change(api, {"target_sku": "SPB", "subscription": std.pk}, "k-1")
    assert again.status_code == 202
    assert again.json() == first.json()
    assert PlanChange.objects.count() == 1
    # A script can tell the replay from a change it started now.
    assert "Idempotent-Replayed" not in first
    assert again["Idempotent-Replayed"] == "true"


@pytest.mark.django_db
def test_a_refusal_is_replayed_too(contoso):
    _, admin, std = contoso
    api = client_for(admin)
    first = post_change(api, {"subscription": std.pk, "target_sku": "O365_BUSINESS"}, "k-2")
    assert first.status_code == 422
    assert [b["code"] for b in first.json()["blockers"]] == ["target_not_supported", "target_not_upgrade"]
    again = post_change(api, {"subscription": std.pk, "target_sku": "O365_BUSINESS"}, "k-2")
    assert (again.status_code, again.json()) == (422, first.json())
    assert again["Content-Type"].startswith("application/problem+json")
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_422(contoso):
    _, admin, std = contoso
    api = client_for(admin)
    post_change(api, {"subscription": std.pk, "target_sku": "SPB"}, "k-1")
    response = post_change(api, {"subscription": std.pk, "target_sku": "ENTERPRISEPACK"}, "k-1")
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"


@pytest.mark.django_db
def test_a_key_in_flight_is_409(contoso):
    tenant, admin, std = contoso
    from planchange.idempotency import body_hash

    IdempotencyRecord.objects.create(
        tenant=tenant, user=admin, key="k-3", created_at=timezone.now(),
        expires_at=timezone.now() + timedelta(hours=24),
        request_hash=body_hash({"subscription_id": std.pk, "target_sku": "SPB", "schedule": "now"}))
    response = post_change(client_for(admin), {"subscription": std.pk, "target_sku": "SPB"}, "k-3")
    assert response.status_code == 409
    assert response.json()["code"] == "request_in_progress"
    assert PlanChange.objects.count() == 0


@pytest.mark.django_db
def test_keys_belong_to_the_caller_and_expire(contoso):
    tenant, admin, std = contoso
    other_admin = admin_of(tenant, "billing_admin")
    post_change(client_for(admin), {"subscription": std.pk, "target_sku": "SPB"}, "shared")
    response = post_change(client_for(other_admin), {"subscription": std.pk, "target_sku": "SPB"}, "shared")
    assert (response.status_code, response.json()["code"]) == (409, "change_in_progress")  # not a replay
    IdempotencyRecord.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    PlanChange.objects.update(status="failed")
    Subscription.objects.update(held_by="")  # as failing it would
    response = post_change(client_for(admin), {"subscription": std.pk, "target_sku": "SPB"}, "shared")
    assert response.status_code == 202  # the expired key is a new request
    assert PlanChange.objects.count() == 2


@pytest.mark.django_db
def test_the_key_is_required(contoso):
    _, admin, std = contoso
    response = client_for(admin).post("/api/v1/plan-changes/", {"subscription": std.pk, "target_sku": "SPB"},
                                      format="json")
    assert (response.status_code, response.json()["code"]) == (400, "idempotency_key_required")


@pytest.mark.django_db
@pytest.mark.parametrize(("body", "status", "code"), [
    ({"subscription": 999999, "target_sku": "SPB"}, 404, "subscription_not_found"),
    ({"subscription": 0, "target_sku": "SPB"}, 400, "invalid"),  # ids are 1 to 2**63 - 1 at the door
    ({"subscription": "x", "target_sku": "SPB"}, 400, "invalid"),
    ({"target_sku": "SPB"}, 400, "invalid"),
    ({"subscription": None, "target_sku": "NOPE"}, 400, "invalid"),
    ({"subscription": "SUB", "target_sku": "NOPE"}, 422, "unknown_sku"),
    ({"subscription": "SUB", "target_sku": "SPB", "licenses": 2}, 422, "licenses_too_few"),
    ({"subscription": "SUB", "target_sku": "SPB", "licenses": 0}, 400, "invalid"),
    ({"subscription": "SUB", "target_sku": "SPB", "schedule": "renewal"}, 422, "schedule_not_available"),
    ({"subscription": "SUB", "target_sku": "SPB", "term": "P1M", "billing_frequency": "annual"}, 422,
     "invalid_offer"),
    ({"subscription": "SUB", "target_sku": "O365_BUSINESS_PREMIUM"}, 422, "same_plan"),
    ({"subscription": "SUB", "target_sku": "SPB", "payment_method": 999999}, 422, "unknown_payment_method"),
    ({"subscription": "SUB", "target_sku": "SPB", "quote_id": 999999}, 404, "quote_not_found"),
])
def test_bad_requests_say_why_and_change_nothing(contoso, body, status, code):
    _, admin, std = contoso
    body = {k: (std.pk if v == "SUB" else v) for k, v in body.items()}
    response = post_change(client_for(admin), body, f"bad-{code}-{status}")
    assert response.status_code == status, response.json()
    assert response.json()["code"] == code
    assert PlanChange.objects.count() == 0


@pytest.mark.django_db
def test_preview_through_the_api_equals_the_invoice(contoso):
    _, admin, std = contoso
    api = client_for(admin)
    quote = api.post("/api/v1/plan-changes/preview/", {"subscription": std.pk, "target_sku": "SPB"},
                     format="json").json()
    assert {k: quote[k] for k in ("effective_date", "credit", "charge", "total")} == {
        "effective_date": "2026-06-16", "credit": "-164.13", "charge": "577.50", "total": "413.37"}
    assert quote["lines"] == [
        {"description": "Credit for 15 unused days of Microsoft 365 Business Standard (25 licenses)",
         "amount": "-164.13", "start": "2026-06-16", "end": "2026-07-01"},
        {"description": "Microsoft 365 Business Premium (25 licenses), 2026-06-16 to 2026-07-16",
         "amount": "577.50", "start": "2026-06-16", "end": "2026-07-16"},
    ]
    change = post_change(api, {"subscription": std.pk, "target_sku": "SPB", "quote_id": quote["quote_id"]}, "q")
    assert change.status_code == 202
    assert workflow.run(change.json()["id"]) == "completed"
    done = api.get(f"/api/v1/plan-changes/{change.json()['id']}/").json()
    invoice = api.get(f"/api/v1/invoices/{done['invoice']}/").json()
    assert [(line["description"], line["amount"], line["start"], line["end"]) for line in invoice["lines"]] == [
        (line["description"], line["amount"], line["start"], line["end"]) for line in quote["lines"]]
    assert (invoice["total"], done["credit"], done["status"]) == ("413.37", "-164.13", "completed")


@pytest.mark.django_db
def test_a_stale_quote_is_409(contoso):
    _, admin, std = contoso
    api = client_for(admin)
    quote = api.post("/api/v1/plan-changes/preview/", {"subscription": std.pk, "target_sku": "SPB"},
                     format="json").json()
    assert api.patch(f"/api/v1/subscriptions/{std.pk}/", {"licenses": 30}, format="json").status_code == 200
    response = post_change(api, {"subscription": std.pk, "target_sku": "SPB", "quote_id": quote["quote_id"]}, "s")
    assert (response.status_code, response.json()["code"]) == (409, "quote_stale")


@pytest.mark.django_db
def test_edits_to_a_subscription_with_a_change_under_way_are_409(contoso):
    _, admin, std = contoso
    api = client_for(admin)
    post_change(api, {"subscription": std.pk, "target_sku": "SPB"}, "k")
    for response in (api.patch(f"/api/v1/subscriptions/{std.pk}/", {"licenses": 30}, format="json"),
                     api.patch(f"/api/v1/subscriptions/{std.pk}/", {"recurring_billing": False}, format="json"),
                     api.post(f"/api/v1/subscriptions/{std.pk}/cancel/")):
        assert (response.status_code, response.json()["code"]) == (409, "change_in_progress")
    std.refresh_from_db()
    assert (std.licenses, std.recurring_billing, std.status) == (25, True, "active")
    assert api.get("/api/v1/subscriptions/").status_code == 200  # the rest works


@pytest.mark.django_db
def test_the_list_filters_by_status_and_refuses_an_unknown_one(contoso):
    tenant, admin, std = contoso
    api = client_for(admin)
    queued = post_change(api, {"subscription": std.pk, "target_sku": "SPB"}, "k-1").json()["id"]
    cancelled = PlanChange.objects.create(tenant=tenant, subscription=SubscriptionFactory(tenant=tenant),
                                          target_product=product("SPB"), licenses=1,
                                          status=PlanChange.Status.CANCELLED, requested_at=clock.now())
    ids = lambda query: [c["id"] for c in api.get(f"/api/v1/plan-changes/{query}").json()["results"]]  # noqa: E731
    assert ids("?status=queued") == [queued]
    assert ids("?status=cancelled") == [cancelled.pk]
    assert ids("?status=completed") == []
    assert sorted(ids("")) == sorted([queued, cancelled.pk])
    refused = api.get("/api/v1/plan-changes/?status=done", HTTP_ACCEPT_LANGUAGE="sv")
    assert refused.status_code == 400 and refused["Content-Type"] == "application/problem+json"
    assert refused.json()["code"] == "invalid"
    assert refused.json()["errors"]["status"] == [
        "Ange något av: scheduled, queued, running, completed, failed, cancelled."]


@pytest.mark.django_db
def test_another_tenants_plan_change_is_404(contoso):
    _, admin, std = contoso
    foreign_sub = SubscriptionFactory()
    other = PlanChange.objects.create(tenant=foreign_sub.tenant, subscription=foreign_sub,
                                      target_product=product("SPB"), licenses=1, term="P1Y",
                                      billing_frequency="monthly", status="scheduled", schedule="renewal",
                                      scheduled_for=date(2027, 1, 1), requested_at=timezone.now())
    api = client_for(admin)
    assert api.get(f"/api/v1/plan-changes/{other.pk}/").status_code == 404
    assert api.post(f"/api/v1/plan-changes/{other.pk}/cancel/").status_code == 404
    assert api.post("/api/v1/plan-changes/preview/", {"subscription": foreign_sub.pk, "target_sku": "SPB"},
                    format="json").status_code == 404
    assert post_change(api, {"subscription": foreign_sub.pk, "target_sku": "SPB"}, "f").status_code == 404
    assert api.get(f"/api/v1/users/?search={foreign_sub.tenant.domain}").json()["count"] == 0
    other.refresh_from_db()
    assert other.status == "scheduled"


@pytest.mark.django_db
def test_users_api_lists_licenses(contoso):
    _, admin, std = contoso
    user = std.assignments.first().user
    body = client_for(admin).get("/api/v1/users/", {"search": user.upn}).json()
    assert body["count"] == 1
    assert body["results"][0] == {"id": user.pk, "upn": user.upn, "display_name": user.display_name,
                                  "usage_location": "",
                                  "licenses": [{"subscription": std.pk, "sku": "O365_BUSINESS_PREMIUM",
                                                "disabled_plans": []}]}


@pytest.mark.django_db
def test_support_clock_is_for_support_staff_and_runs_the_sweep(at_date):
    at_date("2026-06-15")
    profile = BillingProfileFactory()
    sub = SubscriptionFactory(tenant=profile.tenant, billing_profile=profile, payment="invoice",
                              start_date=date(2025, 7, 1))
    admin = admin_of(profile.tenant)
    change = post_change(client_for(admin), {"subscription": sub.pk, "target_sku": "SPB", "schedule": "renewal"},
                         "r").json()
    assert (change["status"], change["scheduled_for"]) == ("scheduled", "2026-07-01")
    tenant_api = client_for(admin)
    assert tenant_api.get("/api/v1/support/clock/").status_code == 403
    assert tenant_api.post("/api/v1/support/clock/", {"days": 1}, format="json").status_code == 403
    staff = client_for(LoginFactory(is_staff=True))
    assert staff.get("/api/v1/support/clock/").json()["today"] == "2026-06-15"
    moved = staff.post("/api/v1/support/clock/", {"business_days": 2}, format="json").json()
    assert moved["today"] == "2026-06-17"
    assert moved["sweep"]["scheduled_started"] == []
    moved = staff.post("/api/v1/support/clock/", {"to": "2026-07-01"}, format="json").json()
    assert moved["sweep"]["scheduled_started"] == [change["id"]]
    # The day loop runs a change on its renewal day, before that day's billing.
    assert PlanChange.objects.get(pk=change["id"]).status == "completed"
    assert [e["kind"] for e in moved["events"] if e["ref"] == f"plan_change/{change['id']}"] == ["plan_change"]
    bad = staff.post("/api/v1/support/clock/", {"to": "2026-01-01"}, format="json")
    assert (bad.status_code, bad.json()["code"]) == (422, "clock_backwards")
    assert staff.post("/api/v1/support/clock/", {"days": 1, "business_days": 1}, format="json").status_code == 400
    assert staff.post("/api/v1/support/clock/", {"days": -3}, format="json").status_code == 400


def _post_concurrently(n, key_of) -> tuple[list, Subscription]:
    """n API clients post the same change at once (key_of(i) is each one's Idempotency-Key)."""
    clock.set_date(date(2026, 6, 16))
    tenant, _card, std, _users = mosa_standard()
    token = token_for(admin_of(tenant))

    def request(i):
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        response = post_change(api, {"subscription": std.pk, "target_sku": "SPB"}, key_of(i))
        return response.status_code, response.json().get("id") or response.json().get("code")

    return concurrently(n, request), std


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_requests_with_different_keys_make_exactly_one_change():
    results, std = _post_concurrently(20, lambda i: f"key-{i}")
    change = PlanChange.objects.get(subscription=std)
    assert results.count((202, change.pk)) == 1, results
    assert all(r == (409, "change_in_progress") for r in results if r != (202, change.pk)), results


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_the_same_key_make_one_change():
    results, std = _post_concurrently(8, lambda i: "same-key")
    change = PlanChange.objects.get(subscription=std)
    assert (202, change.pk) in results
    assert all(r in ((202, change.pk), (409, "request_in_progress")) for r in results), results


@pytest.mark.django_db
def test_the_key_and_what_the_request_wrote_commit_together_or_not_at_all(contoso):
    """An unexpected failure after the change was written leaves neither the change nor the key:
    the client's retry with the same key is a new request, not a replay of nothing."""
    from planchange.idempotency import idempotent
    from planchange.services import plan_change_request

    tenant, admin, std = contoso

    def request_then_crash():
        plan_change_request(tenant=tenant, user=admin, subscription_id=std.pk, target_sku="SPB")
        raise RuntimeError("the process died after writing the change")

    with pytest.raises(RuntimeError):
        idempotent(tenant=tenant, user=admin, key="crash", request_hash="h", action=request_then_crash)
    assert (PlanChange.objects.count(), IdempotencyRecord.objects.count()) == (0, 0)
    assert Subscription.objects.get(pk=std.pk).held_by == ""
    response = post_change(client_for(admin), {"subscription": std.pk, "target_sku": "SPB"}, "crash")
    assert response.status_code == 202
    assert IdempotencyRecord.objects.get(key="crash").response_body == response.json()
