"""Every subscription edit has one path, billing's, and what a plan change must do about it reaches
planchange through billing's hook (``billing.hooks``), whichever door called the edit."""

from datetime import date

import pytest

from billing import hooks
from billing.models import Subscription
from billing.services import subscription_cancel, subscription_recurring_billing_set
from planchange.hooks import scheduled_change_on_edit
from planchange.models import PlanChange
from planchange.services import plan_change_request
from portal.errors import Conflict, DomainError
from tests.factories import BillingProfileFactory, SubscriptionFactory, admin_of, product, token_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def scheduled(at_date):
    """An MCA subscription started five days ago (inside its 7-day cancel window), nobody licensed,
    with a change to Business Premium scheduled for its renewal."""
    at_date("2026-06-15")
    profile = BillingProfileFactory(name="Fabrikam billing", tenant__name="Fabrikam")
    sub = SubscriptionFactory(tenant=profile.tenant, product=product("O365_BUSINESS_PREMIUM"), licenses=12,
                              billing_profile=profile, payment="invoice", start_date=date(2026, 6, 10))
    change = plan_change_request(tenant=profile.tenant, user=admin_of(profile.tenant), subscription_id=sub.pk,
                                 target_sku="SPB", schedule="renewal")
    return sub, change


def test_planchange_listens_once():
    assert hooks.SUBSCRIPTION_EDIT_LISTENERS.count(scheduled_change_on_edit) == 1


def test_billings_own_cancel_takes_the_scheduled_change_with_it(scheduled):
    """The edit that used to need planchange's wrapper: billing's service, called directly."""
    sub, change = scheduled
    subscription_cancel(tenant=sub.tenant, subscription_id=sub.pk, actor="admin")
    change.refresh_from_db()
    assert (change.status, change.error_detail) == (PlanChange.Status.CANCELLED, "the subscription was cancelled")
    assert sub.tenant.events.get(verb="plan_change.cancelled").data["reason_text"] == "cancelled.subscription_cancelled"


def test_billings_own_recurring_billing_off_takes_the_scheduled_change_with_it(scheduled):
    sub, change = scheduled
    subscription_recurring_billing_set(tenant=sub.tenant, subscription_id=sub.pk, enabled=False, actor="admin")
    change.refresh_from_db()
    assert change.status == PlanChange.Status.CANCELLED
    assert change.error_detail == "recurring billing was turned off, so the subscription won't renew"


def test_a_listener_that_refuses_rolls_the_whole_edit_back(scheduled, monkeypatch):
    sub, change = scheduled

    def refuse(edit):
        raise Conflict("not now", code="refused_by_listener")

    monkeypatch.setattr(hooks, "SUBSCRIPTION_EDIT_LISTENERS", [*hooks.SUBSCRIPTION_EDIT_LISTENERS, refuse])
    events = sub.tenant.events.count()
    with pytest.raises(Conflict) as refused:
        subscription_cancel(tenant=sub.tenant, subscription_id=sub.pk, actor="admin")
    assert refused.value.code == "refused_by_listener"
    sub.refresh_from_db()
    change.refresh_from_db()
    assert (sub.status, change.status) == (Subscription.Status.ACTIVE, PlanChange.Status.SCHEDULED)
    assert sub.tenant.events.count() == events


def test_listeners_are_told_only_after_billings_own_checks(scheduled, monkeypatch):
    """A cancel billing refuses (licenses still assigned) is never told to the apps above."""
    sub, change = scheduled
    told = []
    monkeypatch.setattr(hooks, "SUBSCRIPTION_EDIT_LISTENERS", [*hooks.SUBSCRIPTION_EDIT_LISTENERS, told.append])
    Subscription.objects.filter(pk=sub.pk).update(assigned_licenses=1)
    with pytest.raises(DomainError) as refused:
        subscription_cancel(tenant=sub.tenant, subscription_id=sub.pk, actor="admin")
    assert (refused.value.code, told) == ("licenses_assigned", [])
    change.refresh_from_db()
    assert change.status == PlanChange.Status.SCHEDULED
    subscription_recurring_billing_set(tenant=sub.tenant, subscription_id=sub.pk, enabled=False, actor="admin")
    assert [(edit.edit, edit.subscription.pk) for edit in told] == [(hooks.Edit.RECURRING_BILLING_OFF, sub.pk)]


@pytest.mark.parametrize("value", [0, 1, "0", "1", "false", "off", None], ids=repr)
def test_recurring_billing_through_the_api_takes_only_a_json_boolean(scheduled, api, value):
    """Issue 21: DRF's BooleanField took 0 as false, so a script's 0 turned billing off and the scheduled
    change went with it."""
    sub, change = scheduled
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(admin_of(sub.tenant))}")
    events = sub.tenant.events.count()
    response = api.patch(f"/api/v1/subscriptions/{sub.pk}/", {"recurring_billing": value}, format="json")
    assert (response.status_code, response["Content-Type"], response.json()["code"]) == (
        400, "application/problem+json", "invalid")
    assert list(response.json()["errors"]) == ["recurring_billing"]
    sub.refresh_from_db()
    change.refresh_from_db()
    assert (sub.recurring_billing, change.status, sub.tenant.events.count()) == (
        True, PlanChange.Status.SCHEDULED, events)


def test_recurring_billing_false_through_the_api_takes_the_scheduled_change_with_it(scheduled, api):
    sub, change = scheduled
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(admin_of(sub.tenant))}")
    response = api.patch(f"/api/v1/subscriptions/{sub.pk}/", {"recurring_billing": False}, format="json")
    assert (response.status_code, response.json()["recurring_billing"]) == (200, False)
    change.refresh_from_db()
    assert change.status == PlanChange.Status.CANCELLED
