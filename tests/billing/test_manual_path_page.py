"""Change plans manually as a live checklist: for the subscription users move from and the one they
move to, each of the article's four steps says done or to do, with its numbers and the page that does
it, at every stage of the manual path (English and Swedish)."""

import html
from datetime import date

import pytest

from billing.lifecycle import subscription_provisioning_finish
from billing.services import (
    subscription_buy,
    subscription_cancel,
    subscription_licenses_set,
    subscription_recurring_billing_set,
)
from licensing.services import license_replace
from tests.factories import (
    BillingProfileFactory,
    SubscriptionFactory,
    TenantFactory,
    admin_of,
    mosa_standard,
    product,
)
from tests.helpers import page_text

pytestmark = pytest.mark.django_db

URL = "/billing/change-plans-manually/"


def checklist(client, old=None, new=None, **headers) -> dict:
    """Each step's state ("done" / "todo") and what it says, by step."""
    query = {k: v.pk for k, v in (("from", old), ("to", new)) if v is not None}
    response = client.get(URL, query, **headers)
    assert response.status_code == 200
    body = response.content.decode()
    steps = {}
    for key in ("buy", "check", "move", "cancel"):
        item = body.split(f'<li data-step="{key}">', 1)[1].split("</li>", 1)[0]
        state = "done" if 'data-state="done"' in item else "todo"
        detail = item.split(f'data-testid="step-{key}">', 1)[1].split("</p>", 1)[0]
        steps[key] = (state, html.unescape(detail).strip())
    return steps


@pytest.fixture
def contoso(client, at_date):
    """Business Standard with 12 of its 25 licenses assigned, moving to Business Premium by hand."""
    at_date("2026-06-16")
    tenant, card, std, users = mosa_standard(users=12)
    client.force_login(admin_of(tenant))
    return tenant, card, std, users


def test_the_manual_path_step_by_step(client, contoso):
    tenant, card, std, users = contoso
    # Nothing chosen: every step is still to do and says what to choose.
    steps = checklist(client)
    assert steps["buy"] == ("todo", "Buy the subscription you want to move users to on Purchase services, with a "
                                    "license for each user you move. Already have it? Choose it above.")
    assert steps["check"] == ("todo", "Choose the subscription users move from and the one they move to above.")
    assert steps["move"] == steps["cancel"] == ("todo", "Choose the subscription users move from above.")

    # The subscription users move from (the blockers' link passes it): 12 users still on it.
    steps = checklist(client, old=std)
    assert steps["buy"][0] == "todo"
    assert steps["move"] == ("todo", "12 users still have licenses of Microsoft 365 Business Standard.")
    assert steps["cancel"] == ("todo", "Microsoft 365 Business Standard has 25 licenses, 12 of them assigned. When "
                                       "everyone has moved, cancel it; if only some users move, remove the licenses "
                                       "you no longer need.")

    # Step 1: Business Premium bought with 10 licenses; it is still being set up.
    spb = subscription_buy(tenant=tenant, sku="SPB", licenses=10, term="P1Y", billing_frequency="monthly",
                           payment_method=card.pk, actor="admin")
    steps = checklist(client, old=std, new=spb)
    assert steps["buy"] == ("done", "Microsoft 365 Business Premium is bought: 10 licenses, since 2026-06-16.")
    assert steps["check"] == ("todo", "12 users to move, 10 unassigned licenses: buy 2 more. Microsoft 365 Business "
                                      "Premium is still being set up; check again in a few minutes.")

    # Step 2: set up, and 2 more licenses bought.
    subscription_provisioning_finish(subscription_id=spb.pk, actor="support")
    assert checklist(client, old=std, new=spb)["check"] == ("todo", "12 users to move, 10 unassigned licenses: buy 2 "
                                                                    "more.")
    subscription_licenses_set(tenant=tenant, subscription_id=spb.pk, licenses=12, actor="admin")
    steps = checklist(client, old=std, new=spb)
    assert steps["check"] == ("done", "12 users to move, 12 unassigned licenses.")
    assert steps["move"][0] == steps["cancel"][0] == "todo"

    # Step 3: the users moved.
    license_replace(tenant=tenant, from_subscription_id=std.pk, to_subscription_id=spb.pk,
                    upns=[u.upn for u in users], actor="admin")
    steps = checklist(client, old=std, new=spb)
    assert [state for state, _detail in steps.values()] == ["done", "done", "done", "todo"]
    assert steps["check"] == ("done", "0 users to move, 0 unassigned licenses.")
    assert steps["move"] == ("done", "Nobody has a license of Microsoft 365 Business Standard any more.")
    assert steps["cancel"] == ("todo", "Nobody uses Microsoft 365 Business Standard any more: cancel it (or turn off "
                                       "its recurring billing) so you pay only for the new licenses.")

    # Step 4: the old subscription cancelled (Disabled): every step is done.
    subscription_cancel(tenant=tenant, subscription_id=std.pk, actor="admin")
    steps = checklist(client, old=std, new=spb)
    assert [state for state, _detail in steps.values()] == ["done"] * 4
    assert steps["cancel"] == ("done", "Microsoft 365 Business Standard was cancelled on 2026-06-16.")


def test_each_step_links_to_the_page_that_does_it(client, contoso):
    tenant, card, std, _users = contoso
    spb = SubscriptionFactory(tenant=tenant, product=product("SPB"), licenses=12, payment_method=card)
    body = client.get(URL, {"from": std.pk, "to": spb.pk}).content.decode()
    links = {key: body.split(f'<li data-step="{key}">', 1)[1].split("</li>", 1)[0] for key in ("buy", "check", "move",
                                                                                               "cancel")}
    assert '<a href="/billing/purchase/">Billing > Purchase services</a>' in links["buy"]
    assert f'<a href="/billing/products/{spb.pk}/#licenses">Open Microsoft 365 Business Premium</a>' in links["check"]
    assert f'<a href="/users/?subscription={std.pk}">Users > Active users</a>' in links["move"]
    assert f'<a href="/billing/products/{std.pk}/#licenses">Open Microsoft 365 Business Standard</a>' in links["cancel"]
    assert ("If you change to a plan with fewer data-related services than your current plan, you must manually back "
            "up any data that you want to keep.") in page_text(client.get(URL))
    # The chosen pair stays chosen in the selects.
    assert f'<option value="{std.pk}" selected>Microsoft 365 Business Standard — Active, 12 of 25 licenses ' \
           "assigned, since 2026-01-01</option>" in body


def test_moving_only_some_users_is_done_when_the_old_licenses_are_down_to_those_still_assigned(client, contoso):
    tenant, card, std, users = contoso
    spb = SubscriptionFactory(tenant=tenant, product=product("SPB"), licenses=5, payment_method=card)
    license_replace(tenant=tenant, from_subscription_id=std.pk, to_subscription_id=spb.pk,
                    upns=[u.upn for u in users[:5]], actor="admin")
    steps = checklist(client, old=std, new=spb)
    assert steps["check"] == ("todo", "7 users to move, 0 unassigned licenses: buy 7 more.")
    assert steps["move"] == ("todo", "7 users still have licenses of Microsoft 365 Business Standard.")
    assert steps["cancel"][0] == "todo"
    subscription_licenses_set(tenant=tenant, subscription_id=std.pk, licenses=7, actor="admin")
    assert checklist(client, old=std, new=spb)["cancel"] == (
        "done", "Microsoft 365 Business Standard has only the 7 licenses still assigned.")


def test_an_mca_subscription_past_its_cancel_window_is_done_when_its_recurring_billing_is_off(client, at_date):
    at_date("2026-06-15")
    profile = BillingProfileFactory()
    old = SubscriptionFactory(tenant=profile.tenant, billing_profile=profile, payment="invoice", licenses=3,
                              start_date=date(2025, 10, 1))
    new = SubscriptionFactory(tenant=profile.tenant, billing_profile=profile, payment="invoice", licenses=3,
                              product=product("SPB"))
    client.force_login(admin_of(profile.tenant))
    assert checklist(client, old=old, new=new)["cancel"][0] == "todo"
    subscription_recurring_billing_set(tenant=profile.tenant, subscription_id=old.pk, enabled=False, actor="admin")
    assert checklist(client, old=old, new=new)["cancel"] == (
        "done", "Recurring billing of Microsoft 365 Business Standard is off: it expires at the end of its term.")


def test_a_subscription_that_is_not_active_is_named_with_its_status(client, contoso):
    tenant, card, std, _users = contoso
    expired = SubscriptionFactory(tenant=tenant, product=product("SPB"), licenses=20, status="expired",
                                  payment_method=card)
    steps = checklist(client, old=std, new=expired)
    assert steps["buy"] == ("todo", "Microsoft 365 Business Premium isn't Active: its status is Expired. Buy a new "
                                    "subscription, or reactivate this one on its page.")
    assert steps["check"] == ("todo", "12 users to move, 20 unassigned licenses. Microsoft 365 Business Premium "
                                      "isn't Active: its status is Expired.")


def test_the_checklist_in_swedish(client, contoso):
    tenant, card, std, users = contoso
    spb = SubscriptionFactory(tenant=tenant, product=product("SPB"), licenses=10, payment_method=card)
    sv = {"HTTP_ACCEPT_LANGUAGE": "sv"}
    page = page_text(client.get(URL, {"from": std.pk, "to": spb.pk}, **sv))
    assert "Ändra planer manuellt" in page and "Steg 1: Köp en ny prenumeration Klar" in page
    assert "Steg 2: Kontrollera din nya prenumeration och dina licenser Att göra" in page
    steps = checklist(client, old=std, new=spb, **sv)
    assert steps["buy"] == ("done", "Microsoft 365 Business Premium är köpt: 10 licenser, sedan 2026-01-01.")
    assert steps["check"] == ("todo", "12 användare att flytta, 10 otilldelade licenser: köp 2 till.")
    assert steps["move"] == ("todo", "12 användare har fortfarande licenser för Microsoft 365 Business Standard.")
    assert steps["cancel"][0] == "todo"
    license_replace(tenant=tenant, from_subscription_id=std.pk, to_subscription_id=spb.pk,
                    upns=[u.upn for u in users[:10]], actor="admin")
    subscription_licenses_set(tenant=tenant, subscription_id=spb.pk, licenses=12, actor="admin")
    license_replace(tenant=tenant, from_subscription_id=std.pk, to_subscription_id=spb.pk,
                    upns=[u.upn for u in users[10:]], actor="admin")
    subscription_cancel(tenant=tenant, subscription_id=std.pk, actor="admin")
    steps = checklist(client, old=std, new=spb, **sv)
    assert steps == {
        "buy": ("done", "Microsoft 365 Business Premium är köpt: 12 licenser, sedan 2026-01-01."),
        "check": ("done", "0 användare att flytta, 0 otilldelade licenser."),
        "move": ("done", "Ingen har längre någon licens för Microsoft 365 Business Standard."),
        "cancel": ("done", "Microsoft 365 Business Standard avbröts 2026-06-16."),
    }
    assert "Om du ändrar till en plan med färre datarelaterade tjänster" in page_text(client.get(URL, **sv))


@pytest.mark.parametrize("value", ["٤", "-1", "x" * 300, str(2**31), str(2**63), "\u202e1"])
def test_a_subscription_that_is_not_the_organizations_is_refused_beside_its_select(client, contoso, value):
    tenant, card, std, _users = contoso
    for name in ("from", "to"):
        response = client.get(URL, {name: value})
        assert response.status_code == 400
        assert (f'data-testid="{name}-error">Choose one of your organization&#x27;s subscriptions.</div>'
                in response.content.decode())


def test_another_organizations_subscription_reads_as_missing_and_the_same_one_twice_is_refused(client, contoso):
    tenant, card, std, _users = contoso
    foreign = SubscriptionFactory(tenant=TenantFactory())
    response = client.get(URL, {"from": std.pk, "to": foreign.pk})
    assert response.status_code == 400
    assert "Choose one of your organization's subscriptions." in page_text(response)
    assert "Microsoft 365 Business Standard — Active" in page_text(response)
    same = client.get(URL, {"from": std.pk, "to": std.pk})
    assert same.status_code == 400
    assert "Choose a different subscription from the one users move from." in page_text(same)


def test_the_blockers_link_here_with_the_subscription_users_move_from(client, at_date):
    at_date("2026-06-16")
    tenant = TenantFactory(kind="government")
    sub = SubscriptionFactory(tenant=tenant)
    client.force_login(admin_of(tenant))
    body = client.get(f"/billing/products/{sub.pk}/").content.decode()
    assert f'href="/billing/change-plans-manually/?from={sub.pk}">Change plans manually</a>' in body
    steps = checklist(client, old=sub)
    assert steps["move"] == ("done", "Nobody has a license of Microsoft 365 Business Standard any more.")


def test_when_only_some_users_move_the_checklist_counts_those(client, at_date):
    """The article: "a license for each user you want to move". With 5 of 20 moving, 5 unassigned
    licenses on the new subscription are enough, and the move is done once 5 have moved."""
    from licensing.services import license_replace
    from tests.factories import LicenseFactory, SubscriptionFactory, TenantFactory, admin_of, product

    at_date("2026-06-15")
    tenant = TenantFactory(domain="partial.example")
    old = SubscriptionFactory(tenant=tenant, licenses=20)
    users = [LicenseFactory(subscription=old).user for _ in range(20)]
    new = SubscriptionFactory(tenant=tenant, product=product("SPB"), licenses=5)
    client.force_login(admin_of(tenant))
    url = f"/billing/change-plans-manually/?from={old.pk}&to={new.pk}&moving=5"
    text = page_text(client.get(url))
    assert "5 users to move, 5 unassigned licenses." in text
    assert "0 of the 5 users who move have licenses of Microsoft 365 Business Premium." in text
    license_replace(tenant=tenant, from_subscription_id=old.pk, to_subscription_id=new.pk,
                    upns=[u.upn for u in users[:5]], actor="admin")
    text = page_text(client.get(url))
    assert "5 of the 5 users who move have licenses of Microsoft 365 Business Premium." in text
    refused = client.get(url.replace("moving=5", "moving=٥"))
    assert refused.status_code == 400
    assert "Enter a whole number of users from 1 to 1,000,000, or leave it empty for everyone." in page_text(refused)
