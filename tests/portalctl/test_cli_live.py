"""portalctl against a live portal and a real Celery worker: login, --json, change --wait with its
progress and exit codes, a blocked change listing its blockers, --lang sv, errors in words."""

import re
import stat
from datetime import date

import pytest

from billing.models import Subscription
from planchange.models import PlanChange
from portal import clock
from tests.factories import (
    CreditCheckFactory,
    PlanChangeFactory,
    addon,
    admin_of,
    mosa_standard,
    product,
    token_for,
)
from tests.worker import celery_worker

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

STEPS = ["Validate", "Provision the new subscription", "Move licenses", "Bill", "Cancel the old subscription",
         "Complete"]


@pytest.fixture
def tenants():
    clock.set_date(date(2026, 6, 16))
    tenant, _card, std, _users = mosa_standard(users=3)
    blocked_tenant, _card, blocked, _users = mosa_standard(users=2, name="Fabrikam", domain="fabrikam.example")
    blocked.subscription_addons.create(addon=addon("AUDIO_CONFERENCING"), added_on=date(2026, 1, 1))
    CreditCheckFactory(tenant=blocked_tenant, requested=date(2026, 6, 15))
    return std, token_for(admin_of(tenant)), blocked, token_for(admin_of(blocked_tenant))


def test_login_json_change_wait_blocked_change_and_swedish(portal_url, cli, tenants, tmp_path):
    std, token, blocked, blocked_token = tenants

    # login: a bad token is refused in words and nothing is saved; a good one is checked and saved 0600.
    bad = cli("login", "--url", portal_url, "--token", "not-a-token")
    assert bad.code == 2 and "authentication_failed" in bad.err and "Traceback" not in bad.err + bad.out
    assert not cli.config.exists()
    good = cli("login", "--url", portal_url, "--token", token)
    assert good.code == 0, good.err
    assert f"Signed in to {portal_url} as " in good.out and "(Contoso)" in good.out
    assert stat.S_IMODE(cli.config.stat().st_mode) == 0o600
    assert stat.S_IMODE(cli.config.parent.stat().st_mode) == 0o700
    # Without flags or environment, the saved login is used; --json parses.
    listed = cli("subscriptions", "--json")
    assert listed.code == 0, listed.err
    assert [(s["id"], s["sku"], s["status"]) for s in listed.json] == [(std.pk, "O365_BUSINESS_PREMIUM", "active")]
    upgrades = cli("upgrades", std.pk)
    assert upgrades.code == 0 and "Can change plans automatically: yes" in upgrades.out

    # change --wait: a line per step as it finishes, the outcome, exit 0; the subscription is replaced.
    with celery_worker(tmp_path / "worker.log"):
        changed = cli("change", std.pk, "--to", "SPB", "--wait")
    assert changed.code == 0, changed.out + changed.err
    key = re.search(r"Idempotency-Key: ([0-9a-f-]{36})", changed.err).group(1)
    assert [line for line in changed.out.splitlines() if line.startswith("✓ Step")] == [
        f"✓ Step {step}: Done" for step in STEPS]
    change = PlanChange.objects.get()
    assert f"Plan change {change.pk} completed: subscription {std.pk} was replaced by subscription " \
           f"{change.new_subscription_id}." in changed.out
    std.refresh_from_db()
    assert (change.status, std.status, change.new_subscription.product.sku) == ("completed", "cancelled", "SPB")
    # The same key again replays the same change (no second one); --json --wait prints the final object only.
    again = cli("change", std.pk, "--to", "SPB", "--wait", "--json", "--idempotency-key", key)
    assert again.code == 0, again.err
    assert (again.json["id"], again.json["status"]) == (change.pk, "completed")
    assert f"Idempotency-Key: {key}" in again.err
    assert PlanChange.objects.count() == 1
    assert [c["id"] for c in cli("changes", "--status", "completed", "--json").json] == [change.pk]
    assert cli("changes", "--status", "failed", "--json").json == []

    # A blocked change: exit 2, the blockers listed with their codes, nothing requested.
    refused = cli("change", blocked.pk, "--to", "SPB", "--wait", url=portal_url, token=blocked_token)
    assert refused.code == 2
    assert "blocked, HTTP 422" in refused.err and "Traceback" not in refused.err
    assert "- addon_present: Your subscription has an add-on." in refused.err
    assert "- credit_check_pending: A credit check is pending." in refused.err
    as_json = cli("change", blocked.pk, "--to", "SPB", "--json", url=portal_url, token=blocked_token)
    assert (as_json.code, as_json.json["code"], [b["code"] for b in as_json.json["blockers"]]) == (
        2, "blocked", ["credit_check_pending", "addon_present"])
    assert PlanChange.objects.count() == 1
    # Another tenant's subscription is a 404 in words.
    foreign = cli("upgrades", blocked.pk)
    assert (foreign.code, "not_found, HTTP 404" in foreign.err) == (2, True)

    # --lang sv: the CLI's words and the portal's in Swedish.
    swedish = cli("--lang", "sv", "change", blocked.pk, "--to", "SPB", url=portal_url, token=blocked_token)
    assert swedish.code == 2
    assert "Fel: Den här planen kan inte ändras automatiskt just nu." in swedish.err
    assert "Hinder:" in swedish.err and "- addon_present: Din prenumeration har ett tillägg." in swedish.err
    listing = cli("subscriptions", "--lang", "sv")
    assert "Prenumerationer" in listing.out and "Avbruten" in listing.out and "Aktiv" in listing.out
    assert not re.search(r"Subscriptions|Product|Licenses|Cancelled|Active|monthly", listing.out)
    history = cli("changes", "--lang", "sv")
    assert "Planändringar" in history.out and "Slutförd" in history.out and "Completed" not in history.out


def test_errors_are_words_with_exit_codes(cli, portal_url, tenants, tmp_path):
    std, token, _blocked, _blocked_token = tenants
    down = cli("subscriptions", url="http://127.0.0.1:9", token=token)
    assert down.code == 1
    assert down.err.strip() == "Error: Can't reach the portal at http://127.0.0.1:9: connection refused"
    assert cli("subscriptions", "--lang", "sv", url="http://127.0.0.1:9", token=token).err.strip() == \
        "Fel: Kan inte nå portalen på http://127.0.0.1:9: anslutningen nekades"
    assert cli("subscriptions", "--json", url="http://127.0.0.1:9", token=token).json == {
        "code": "unreachable", "status": None,
        "detail": "Can't reach the portal at http://127.0.0.1:9: connection refused"}
    not_configured = cli("subscriptions")
    assert (not_configured.code, not_configured.err.strip()) == (
        2, "Error: No portal URL: run portalctl login, or give --url or PORTAL_URL.")
    bad_token = cli("invoices", url=portal_url, token="wrong")
    assert bad_token.code == 2 and "portalctl login" in bad_token.err and "(authentication_failed, HTTP 401)" in bad_token.err
    not_portal = cli("subscriptions", url=f"{portal_url}/billing", token=token)
    assert not_portal.code in (1, 2) and "Traceback" not in not_portal.err
    unknown = cli("changes", "--status", "done", url=portal_url, token=token)
    assert (unknown.code, "Unknown status done" in unknown.err) == (2, True)
    invalid = cli("change", std.pk, "--to", "NOPE", url=portal_url, token=token)
    assert invalid.code == 2 and "(unknown_sku, HTTP 422)" in invalid.err
    for run in (down, not_configured, bad_token, not_portal, unknown, invalid):
        assert "Traceback" not in run.out + run.err
    assert PlanChange.objects.count() == 0
    assert Subscription.objects.filter(product=product("SPB")).count() == 0


def test_what_a_newcomer_met_login_hint_empty_lists_times_and_swedish_words(cli, portal_url, tenants):
    """Found by probing (probe1): ``login`` with a wrong token said "sign in again with portalctl login";
    an empty list was a table of headers only; ``changes`` showed raw timestamps with microseconds;
    Swedish said "byta abonnemang" where the portal says "ändra plan"."""
    std, token, _blocked, _blocked_token = tenants
    bad = cli("login", "--url", portal_url, "--token", "pcp_" + "x" * 48)
    assert bad.code == 2 and "portalctl login" not in bad.err
    assert bad.err.strip() == (f"Error: The portal at {portal_url} refused this token: Invalid token. Copy it again "
                               "from Settings > API tokens (authentication_failed, HTTP 401).")
    bad_sv = cli("login", "--lang", "sv", "--url", portal_url, "--token", "wrong")
    assert bad_sv.code == 2 and "nekade den här token" in bad_sv.err and "Inställningar > API-token" in bad_sv.err
    assert not cli.config.exists()
    assert cli("login", "--json", "--url", portal_url, "--token", "wrong").json["code"] == "authentication_failed"

    none = cli("changes", url=portal_url, token=token)
    assert (none.code, none.out.strip()) == (0, "No plan changes.")
    assert cli("changes", "--lang", "sv", url=portal_url, token=token).out.strip() == "Inga planändringar."
    assert cli("users", "--search", "nobody-by-this-name", url=portal_url, token=token).out.strip() == "No users."
    assert cli("changes", "--json", url=portal_url, token=token).json == []

    PlanChangeFactory(subscription=std, status="cancelled", completed_at=clock.now())
    listed = cli("changes", url=portal_url, token=token)
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", listed.out) and not re.search(r"T\d\d:\d\d:\d\d\.\d+", listed.out)

    swedish = cli("upgrades", std.pk, "--lang", "sv", url=portal_url, token=token)
    assert "Kan ändra plan automatiskt: ja" in swedish.out and "Planer du kan ändra till" in swedish.out
    assert "abonnemang" not in swedish.out.lower()
