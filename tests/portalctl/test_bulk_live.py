"""bulk-change and examples/upgrade_business_basic.py against a live portal and a real worker: the
dry run changes nothing and shows the quotes; the real run starts each change once; a re-run (while
the change is queued, and after it completed) changes nothing twice."""

import re
import subprocess
import sys
from datetime import date
from decimal import Decimal

import pytest

from billing.models import Subscription
from planchange.models import PlanChange
from portal import clock
from simulation.sweep import sweep_run
from tests.factories import (
    LicenseFactory,
    PaymentMethodFactory,
    SubscriptionFactory,
    TenantFactory,
    admin_of,
    product,
    token_for,
)
from tests.portalctl.conftest import ROOT
from tests.worker import celery_worker, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

BASIC, STANDARD = "O365_BUSINESS_ESSENTIALS", "O365_BUSINESS_PREMIUM"


def basic_tenant(name: str, *, subscriptions: int = 1, users: int = 2):
    tenant = TenantFactory(name=name, domain=f"{name.lower()}.example")
    card = PaymentMethodFactory(tenant=tenant, is_default=True)
    subs = [SubscriptionFactory(tenant=tenant, product=product(BASIC), licenses=5, term="P1M", payment_method=card)
            for _ in range(subscriptions)]
    for _ in range(users):
        LicenseFactory(subscription=subs[0])
    return subs, token_for(admin_of(tenant))


def batch_key(run) -> str:
    return re.search(r"Batch key: (bulk-[0-9a-f]+)", run.err).group(1)


def finished(change_id: int) -> bool:
    sweep_run()  # as beat would: wakes a worker for a change whose wake-up was purged
    return PlanChange.objects.get(pk=change_id).status in ("completed", "failed")


def test_bulk_change_dry_run_then_real_run_then_reruns_change_nothing_twice(portal_url, cli, tmp_path):
    clock.set_date(date(2026, 6, 16))
    (basic,), token = basic_tenant("Contoso")
    duplicates, duplicates_token = basic_tenant("Fabrikam", subscriptions=2)
    bulk = ("bulk-change", "--from", BASIC, "--to", STANDARD)

    dry = cli(*bulk, "--dry-run", url=portal_url, token=token)
    assert dry.code == 0, dry.out + dry.err
    assert "would change" in dry.out and "1 of 1 can change; 0 refused." in dry.out
    assert "Dry run: nothing was changed." in dry.out
    quote = cli(*bulk, "--dry-run", "--json", url=portal_url, token=token).json["rows"][0]["quote"]
    assert f"USD {quote['total']}" in dry.out and Decimal(quote["credit"]) < 0 < Decimal(quote["charge"])
    assert PlanChange.objects.count() == 0
    # Two Business Basic subscriptions: each refused with its blocker (the article's "two or more plans").
    refused = cli(*bulk, "--dry-run", "--json", url=portal_url, token=duplicates_token)
    assert refused.code == 2
    assert [(r["subscription"], r["result"], [b["code"] for b in r["blockers"]]) for r in refused.json["rows"]] == [
        (s.pk, "refused", ["duplicate_product"]) for s in duplicates]

    # The real run with no worker yet: the change is queued; a re-run finds it under way.
    first = cli(*bulk, url=portal_url, token=token)
    assert first.code == 0, first.out + first.err
    change = PlanChange.objects.get()
    assert (change.subscription_id, change.status) == (basic.pk, "queued")
    assert re.search(rf"│ {basic.pk} +│ 5 +│ started +│ {change.pk} +│ Queued", first.out), first.out
    assert "1 started, 0 already started, 0 refused." in first.out
    queued_again = cli(*bulk, url=portal_url, token=token)
    assert queued_again.code == 0 and "0 started, 1 already started, 0 refused." in queued_again.out
    assert batch_key(queued_again) == batch_key(first)
    assert PlanChange.objects.count() == 1

    with celery_worker(tmp_path / "worker.log"):
        wait_for(lambda: finished(change.pk), timeout=60, interval=1.0, what="the change to finish")
    change.refresh_from_db()
    assert change.status == "completed"
    assert change.invoice.total == Decimal(quote["total"])  # billed as the dry run quoted

    # After it completed: the same batch, reported as already done, nothing requested.
    done_again = cli(*bulk, "--json", url=portal_url, token=token)
    assert done_again.code == 0, done_again.err
    assert done_again.json["batch_key"] == batch_key(first)
    assert [(r["subscription"], r["result"], r["change"], r["status"]) for r in done_again.json["rows"]] == [
        (basic.pk, "already", change.pk, "completed")]
    assert PlanChange.objects.count() == 1
    assert Subscription.objects.filter(tenant=basic.tenant, product=product(STANDARD), status="active").count() == 1

    # The refused tenant's real run starts nothing.
    assert cli(*bulk, url=portal_url, token=duplicates_token).code == 2
    assert PlanChange.objects.count() == 1


def test_the_example_script_upgrades_business_basic_with_the_api_alone(portal_url, tmp_path):
    clock.set_date(date(2026, 6, 16))
    (basic,), token = basic_tenant("Contoso", users=3)
    SubscriptionFactory(tenant=basic.tenant, product=product("SPB"), licenses=2)  # not Business Basic: untouched
    script = [sys.executable, str(ROOT / "examples" / "upgrade_business_basic.py")]
    env = {"PORTAL_URL": portal_url, "PORTAL_TOKEN": token, "PATH": "/usr/bin:/bin"}
    with celery_worker(tmp_path / "worker.log"):
        run = subprocess.run(script, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    change = PlanChange.objects.get()
    assert f"subscription {basic.pk}: completed; now subscription {change.new_subscription_id}" in run.stdout
    assert (change.status, change.target_product.sku, change.new_subscription.assigned_licenses) == (
        "completed", STANDARD, 3)
    assert change.quote is not None  # requested with the preview's quote_id
    again = subprocess.run(script, env=env, capture_output=True, text=True, timeout=60)
    assert (again.returncode, again.stdout.strip()) == (0, "No active Business Basic subscription.")
    assert PlanChange.objects.count() == 1
    # The script is an API client only.
    assert "import portalctl" not in (ROOT / "examples" / "upgrade_business_basic.py").read_text()
