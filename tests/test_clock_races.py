"""Clock moves racing plan changes and license edits (issue 21): support moves the clock (and previews
it) in one thread while admins buy and assign licenses in another and change plans in a third, each in its
own transactions, in whatever order the threads interleave. After: nothing lost or doubled.

``make test`` runs a few rounds; ``make soak`` many (``SOAK_ROUNDS``)."""

import os
import random
import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Count

from billing.models import Invoice, InvoiceLine, Subscription
from billing.services import subscription_update
from licensing.models import LicenseAssignment
from licensing.services import license_assign, license_unassign
from planchange.models import PlanChange
from planchange.services import plan_change_request
from planchange.workflow import run
from portal import clock
from portal.errors import DomainError
from simulation.moves import clock_move
from tests.factories import DirectoryUserFactory, admin_of, mosa_standard

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ROUNDS = int(os.environ.get("SOAK_ROUNDS", "4"))
CHANGERS = 4


def _thread(fn, errors: list):
    def body():
        try:
            fn()
        except BaseException as exc:  # noqa: BLE001 - reported by the test, not lost in the thread
            errors.append(exc)
        finally:
            connection.close()

    return threading.Thread(target=body)


def _refusals_only(action) -> str:
    try:
        action()
    except DomainError as exc:  # a refusal, as a page or the API would answer (409, 422)
        return exc.code
    return "done"


def test_clock_moves_racing_plan_changes_and_license_edits_lose_and_double_nothing():
    seed = random.Random(int(os.environ.get("SOAK_SEED", "21")))
    clock.set_date(date(2026, 6, 15))
    editor, _card, edited, users = mosa_standard(users=5, licenses=8, domain="editor.example")
    spare = [DirectoryUserFactory(tenant=editor, upn=f"spare{i}@editor.example") for i in range(3)]
    changers = [mosa_standard(users=3, licenses=5, domain=f"changer{i}.example")[::2] for i in range(CHANGERS)]
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def support():
        for _ in range(ROUNDS):
            outcomes.append(_refusals_only(lambda: clock_move(actor="support", days=seed.randint(1, 45))))
            outcomes.append(_refusals_only(lambda: clock_move(actor="support", days=200, dry_run=True)))

    def admin_edits():
        for i in range(ROUNDS * 3):
            sub = Subscription.objects.get(pk=edited.pk)
            licenses = sub.licenses + seed.choice((1, -1))
            outcomes.append(_refusals_only(lambda n=licenses: subscription_update(
                tenant=editor, subscription_id=edited.pk, actor="admin", licenses=n)))
            upn = spare[i % len(spare)].upn
            outcomes.append(_refusals_only(lambda u=upn: license_assign(tenant=editor, subscription_id=edited.pk,
                                                                        upns=[u], actor="admin")))
            outcomes.append(_refusals_only(lambda u=upn: license_unassign(tenant=editor, subscription_id=edited.pk,
                                                                          upns=[u], actor="admin")))

    def admin_changes():
        for tenant, old in changers:
            def change(tenant=tenant, old=old):
                started = plan_change_request(tenant=tenant, user=admin_of(tenant), subscription_id=old.pk,
                                              target_sku="SPB", licenses=3)
                outcomes.append(run(started.pk))
            outcomes.append(_refusals_only(change))

    threads = [_thread(fn, errors) for fn in (support, admin_edits, admin_changes)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not errors, errors
    assert "completed" in outcomes
    _nothing_lost_or_doubled(users=[u.pk for u in users])


def _nothing_lost_or_doubled(*, users: list[int]) -> None:
    # A period is invoiced once; every invoice adds up; nobody holds two licenses of one product.
    keys = list(InvoiceLine.objects.filter(idempotency_key__contains="/period/").values_list("idempotency_key",
                                                                                            flat=True))
    assert len(keys) == len(set(keys))
    for invoice in Invoice.objects.prefetch_related("lines"):
        assert invoice.total == sum((line.amount for line in invoice.lines.all()), Decimal("0.00")), invoice
    assert not (LicenseAssignment.objects.values("user_id", "subscription__product_id").annotate(n=Count("pk"))
                .filter(n__gt=1).exists())
    # Licenses are counted, never over-assigned, never on a subscription that is gone.
    counts = dict(LicenseAssignment.objects.values("subscription").annotate(n=Count("pk"))
                  .values_list("subscription", "n"))
    for sub in Subscription.objects.all():
        assert sub.assigned_licenses == counts.get(sub.pk, 0) <= sub.licenses, sub
    assert not LicenseAssignment.objects.filter(subscription__status__in=("deleted", "cancelled")).exists()
    # The editor's own users kept their licenses; every change ended, none stuck, none half-done.
    assert LicenseAssignment.objects.filter(user_id__in=users).count() == len(users)
    assert not PlanChange.objects.filter(status__in=("queued", "running")).exists()
    for change in PlanChange.objects.filter(status="completed").select_related("subscription"):
        assert (change.subscription.status, change.subscription.assigned_licenses) == ("cancelled", 0)
        assert LicenseAssignment.objects.filter(subscription_id=change.new_subscription_id).count() == 3
    # The clock: every day on the way applied, the clock where the moves left it.
    assert clock.applied_through() == clock.today()
