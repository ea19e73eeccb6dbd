"""Time moves without holding the world (issue 21): while support previews ten years over many tenants,
another tenant buys licenses, a plan change bills and the beat's sweep runs, each answering within
two seconds; the preview still answers exactly what the real move then does."""

import threading
import time
from datetime import date

import pytest
from django.db import connection

from billing.models import Invoice
from billing.services import subscription_update
from planchange.services import plan_change_request
from planchange.workflow import run
from portal import clock
from simulation.moves import clock_move
from simulation.sweep import sweep_run
from tests.factories import PaymentMethodFactory, SubscriptionFactory, TenantFactory, admin_of, mosa_standard

TENANTS = 10
WAITED_AT_MOST = 2.0  # seconds: "each answering within two seconds"


def _world():
    for i in range(TENANTS):
        tenant = TenantFactory(domain=f"busy{i}.example")
        card = PaymentMethodFactory(tenant=tenant)
        SubscriptionFactory(tenant=tenant, licenses=3, payment_method=card, start_date=date(2026, 6, 1))
    buyer, _card, bought, _users = mosa_standard()
    changer, _card2, old, _users2 = mosa_standard(domain="changer.example", users=3)
    change = plan_change_request(tenant=changer, user=admin_of(changer), subscription_id=old.pk, target_sku="SPB",
                                 licenses=3)
    return buyer, bought, change


def _timed(fn):
    started = time.monotonic()
    result = fn()
    return result, time.monotonic() - started


@pytest.mark.django_db(transaction=True)
def test_a_ten_year_dry_run_over_many_tenants_holds_nobody_up(at_date):
    at_date("2026-06-15")
    buyer, bought, change = _world()
    preview: dict = {}

    def dry_run():
        try:
            preview.update(clock_move(actor="support@portal.local", days=3650, dry_run=True))
        finally:
            connection.close()

    previewing = threading.Thread(target=dry_run)
    previewing.start()
    time.sleep(1.0)  # the preview is well under way
    _, buying = _timed(lambda: subscription_update(tenant=buyer, subscription_id=bought.pk, actor="admin",
                                                   licenses=bought.licenses + 1))
    outcome, changing = _timed(lambda: run(change.pk))
    _, sweeping = _timed(sweep_run)
    still_previewing = previewing.is_alive()
    previewing.join()
    assert outcome == "completed"
    assert max(buying, changing, sweeping) < WAITED_AT_MOST, (buying, changing, sweeping)
    assert still_previewing, "the preview ended before the others were tried: make the world bigger"
    # The preview kept nothing: the clock and the invoices are where the others left them.
    assert clock.today() == date(2026, 6, 15)
    assert not Invoice.objects.filter(date__gt=date(2026, 6, 15)).exists()
    assert len({e["date"][:4] for e in preview["events"]}) == 11  # every year from 2026 to 2036
