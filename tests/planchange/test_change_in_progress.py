"""A subscription under change is read-only (the article: admins can't change the
subscription details while the change runs): while a change is queued or running, every
license and subscription edit of the old AND the new subscription answers 409
``change_in_progress`` and changes nothing; once the change ends, both are editable again.

Steps are run one at a time in this process here; the race against a real worker is at
the bottom."""

from datetime import date

import pytest
from rest_framework.test import APIClient

from billing.models import Subscription
from licensing.models import LicenseAssignment
from planchange import workflow
from planchange.models import PlanChange
from portal import clock
from portal.models import Event
from tests.factories import (
    DirectoryUserFactory,
    SubscriptionFactory,
    addon,
    admin_of,
    mosa_standard,
    product,
    token_for,
)
from tests.helpers import page_text
from tests.worker import celery_worker, wait_for

USERS = 22


def client(tenant) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(admin_of(tenant))}")
    return api


def request_change(api, std) -> int:
    response = api.post("/api/v1/plan-changes/", {"subscription": std.pk, "target_sku": "SPB"}, format="json",
                        HTTP_IDEMPOTENCY_KEY=f"lock-{std.pk}")
    assert response.status_code == 202, response.json()
    return response.json()["id"]


def run_steps(change_id, *names):
    for name in names:
        workflow.STEPS[name](change_id)


def assert_refused(response):
    assert response.status_code == 409, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "change_in_progress"


def edits(api, sub, other, spare_upns, holder_upn):
    """Every license and subscription edit an admin can make, aimed at ``sub``."""
    return {
        "assign": lambda: api.post("/api/v1/licenses/assign/", {"users": spare_upns, "subscription": sub.pk},
                                   format="json"),
        "unassign": lambda: api.post("/api/v1/licenses/unassign/", {"users": [holder_upn], "subscription": sub.pk},
                                     format="json"),
        "replace out": lambda: api.post("/api/v1/licenses/replace/", {
            "users": [holder_upn], "from_subscription": sub.pk, "to_subscription": other.pk}, format="json"),
        "licenses": lambda: api.patch(f"/api/v1/subscriptions/{sub.pk}/", {"licenses": 30}, format="json"),
        "recurring billing": lambda: api.patch(f"/api/v1/subscriptions/{sub.pk}/", {"recurring_billing": False},
                                               format="json"),
        "cancel": lambda: api.post(f"/api/v1/subscriptions/{sub.pk}/cancel/"),
        "remove add-on": lambda: api.delete(f"/api/v1/subscriptions/{sub.pk}/addons/EXTRA_FILE_STORAGE/"),
    }


@pytest.fixture
def contoso(db):
    clock.set_date(date(2026, 6, 16))
    tenant, card, std, users = mosa_standard(users=USERS)
    std.subscription_addons.create(addon=addon("EXTRA_FILE_STORAGE"), added_on=date(2026, 1, 1))
    basic = SubscriptionFactory(tenant=tenant, product=product("O365_BUSINESS_ESSENTIALS"), licenses=5,
                                payment_method=card, term="P1M")
    spare = [DirectoryUserFactory(tenant=tenant) for _ in range(3)]
    return client(tenant), std, basic, users, spare


def snapshot(*subs):
    return (
        sorted(LicenseAssignment.objects.filter(subscription__in=subs).values_list("user_id", "subscription_id")),
        [Subscription.objects.filter(pk=s.pk).values_list("licenses", "status", "recurring_billing").get()
         for s in subs],
    )


def test_while_queued_every_edit_of_the_old_subscription_is_refused(contoso):
    api, std, basic, users, spare = contoso
    request_change(api, std)
    before, events = snapshot(std, basic), Event.objects.count()
    for name, edit in edits(api, std, basic, [u.upn for u in spare], users[0].upn).items():
        response = edit()
        assert_refused(response), name
    assert snapshot(std, basic) == before
    assert Event.objects.count() == events
    assert api.get(f"/api/v1/subscriptions/{std.pk}/").json()["change_in_progress"] is True
    # Replacing INTO the subscription under change is refused too.
    assign_basic = api.post("/api/v1/licenses/assign/", {"users": [spare[0].upn], "subscription": basic.pk},
                            format="json")
    assert assign_basic.status_code == 200
    assert_refused(api.post("/api/v1/licenses/replace/", {
        "users": [spare[0].upn], "from_subscription": basic.pk, "to_subscription": std.pk}, format="json"))


def test_once_provisioned_every_edit_of_the_new_subscription_is_refused(contoso):
    api, std, basic, users, spare = contoso
    change_id = request_change(api, std)
    run_steps(change_id, "validate", "provision", "migrate_licenses")
    new = PlanChange.objects.get(pk=change_id).new_subscription
    assert api.get(f"/api/v1/subscriptions/{new.pk}/").json()["change_in_progress"] is True
    before = snapshot(std, new, basic)
    for name, edit in edits(api, new, basic, [u.upn for u in spare], users[0].upn).items():
        if name == "remove add-on":
            continue  # the new subscription has none; the 409 comes before the 404 anyway
        assert_refused(edit()), name
    # The old one, licenses moved but not yet cancelled: assigning onto it is refused.
    assert_refused(api.post("/api/v1/licenses/assign/", {"users": [spare[0].upn], "subscription": std.pk},
                            format="json"))
    assert snapshot(std, new, basic) == before


def test_when_the_change_completes_the_new_subscription_is_editable_and_the_old_one_is_gone(contoso):
    api, std, basic, users, spare = contoso
    change_id = request_change(api, std)
    assert workflow.run(change_id) == "completed"
    new = PlanChange.objects.get(pk=change_id).new_subscription
    body = api.get(f"/api/v1/subscriptions/{new.pk}/").json()
    assert (body["change_in_progress"], body["assigned_licenses"], body["licenses"]) == (False, USERS, 25)
    assert api.post("/api/v1/licenses/assign/", {"users": [s.upn for s in spare], "subscription": new.pk},
                    format="json").json() == {"count": 3}
    refused = api.post("/api/v1/licenses/assign/", {"users": [spare[0].upn], "subscription": std.pk}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (422, "subscription_not_active")


def test_a_change_that_fails_validation_frees_the_subscription(contoso):
    api, std, basic, users, spare = contoso
    change_id = request_change(api, std)
    Subscription.objects.filter(pk=std.pk).update(provisioning="provisioning")  # became blocked meanwhile
    assert workflow.run(change_id) == "failed"
    assert PlanChange.objects.get(pk=change_id).blockers == ["subscription_not_provisioned"]
    Subscription.objects.filter(pk=std.pk).update(provisioning="provisioned")  # set up: licenses may go onto it
    response = api.post("/api/v1/licenses/assign/", {"users": [spare[0].upn], "subscription": std.pk},
                        format="json")
    assert response.json() == {"count": 1}


# --- The race through a real worker -------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_license_edits_cannot_race_a_running_change_on_a_real_worker(tmp_path):
    """Slowed down (batches of 4 users, a pause between batches and before each step), an admin
    tries to assign 3 more users onto the NEW subscription while licenses move, and onto the OLD
    one after they moved and before it is cancelled. Both answer 409; the change still moves
    exactly the 22 users onto 25 licenses and nobody holds a license of a cancelled subscription."""
    clock.set_date(date(2026, 6, 16))
    tenant, card, std, users = mosa_standard(users=USERS)
    spare = [DirectoryUserFactory(tenant=tenant) for _ in range(3)]
    api = client(tenant)
    with celery_worker(tmp_path / "worker.log", PLANCHANGE_MIGRATE_BATCH="4", PLANCHANGE_STEP_DELAY="1.5"):
        change_id = request_change(api, std)

        def migrating():
            change = PlanChange.objects.get(pk=change_id)
            return change.new_subscription_id and 0 < LicenseAssignment.objects.filter(
                subscription_id=change.new_subscription_id).count() < USERS

        wait_for(migrating, timeout=60, interval=0.05, what="licenses to be moving")
        new_id = PlanChange.objects.get(pk=change_id).new_subscription_id
        onto_new = api.post("/api/v1/licenses/assign/", {"users": [s.upn for s in spare], "subscription": new_id},
                            format="json")

        def billed_not_cancelled():
            steps = dict(PlanChange.objects.get(pk=change_id).steps.values_list("name", "status"))
            return steps["bill"] == "done" and steps["cancel_source"] != "done"

        wait_for(billed_not_cancelled, timeout=60, interval=0.05, what="bill done, cancel_source not yet")
        onto_old = api.post("/api/v1/licenses/assign/", {"users": [spare[0].upn], "subscription": std.pk},
                            format="json")
        wait_for(lambda: PlanChange.objects.get(pk=change_id).status in ("completed", "failed"), timeout=60,
                 what="the change to finish")
    assert_refused(onto_new)
    assert_refused(onto_old)
    change = PlanChange.objects.get(pk=change_id)
    assert change.status == "completed"
    new = Subscription.objects.get(pk=change.new_subscription_id)
    assert (new.licenses, LicenseAssignment.objects.filter(subscription=new).count()) == (25, USERS)
    assert sorted(LicenseAssignment.objects.filter(subscription=new).values_list("user_id", flat=True)) == sorted(
        u.pk for u in users)
    assert not LicenseAssignment.objects.filter(subscription__status="cancelled").exists()
    assert not LicenseAssignment.objects.filter(user__in=spare).exists()


def test_the_refusal_says_why_in_the_callers_language(contoso):
    api, std, basic, users, spare = contoso
    request_change(api, std)
    response = api.post("/api/v1/licenses/assign/", {"users": [spare[0].upn], "subscription": std.pk},
                        format="json", HTTP_ACCEPT_LANGUAGE="sv")
    assert_refused(response)
    assert response.json()["detail"] == ("En planändring som gäller Microsoft 365 Business Standard pågår; "
                                         "prenumerationen kan inte redigeras förrän ändringen är klar.")
    english = api.patch(f"/api/v1/subscriptions/{std.pk}/", {"licenses": 30}, format="json")
    assert english.json()["detail"] == ("A plan change involving Microsoft 365 Business Standard is under way; "
                                        "the subscription can't be edited until the change finishes.")


def test_users_page_offers_no_subscription_under_change_and_refuses_one_sent_anyway(contoso, client):
    api, std, basic, users, spare = contoso
    request_change(api, std)
    client.force_login(admin_of(std.tenant))
    page = client.get(f"/users/?subscription={std.pk}&pane=licenses&users={spare[0].upn}", HTTP_ACCEPT_LANGUAGE="sv")
    html = page.content.decode()
    # Both the "from" and the "Move to" choice show it, and neither can be chosen.
    assert html.count(f'<option value="{std.pk}" disabled>Microsoft 365 Business Standard (22 av 25 tilldelade) — '
                      'planändring pågår') == 2
    response = client.post("/users/licenses/", {"action": "assign", "subscription": str(std.pk),
                                                "users": [spare[0].upn]}, follow=True, HTTP_ACCEPT_LANGUAGE="sv")
    assert "En planändring som gäller Microsoft 365 Business Standard pågår" in page_text(response)
    assert not LicenseAssignment.objects.filter(user=spare[0]).exists()
