"""portal.bulk.rows_update: many rows' own values in one statement, exactly as saved one by one."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import Subscription
from portal import clock
from portal.bulk import rows_update
from tests.factories import SubscriptionFactory


@pytest.mark.django_db
def test_rows_update_writes_each_rows_own_values_in_one_statement():
    clock.set_date(dt.date(2026, 1, 10))
    subs = [SubscriptionFactory(licenses=5) for _ in range(3)]
    untouched = SubscriptionFactory(licenses=7)
    subs[0].billed_until, subs[0].billed_amount, subs[0].licenses = dt.date(2026, 3, 1), Decimal("12.34"), 9
    subs[1].billed_until, subs[1].billed_amount, subs[1].licenses = None, None, 1  # NULLs go through too
    subs[2].status, subs[2].status_until, subs[2].licenses_at_renewal = "expired", dt.date(2026, 2, 9), 3
    with CaptureQueriesContext(connection) as queries:
        rows_update(subs, ["status", "status_until", "billed_until", "billed_amount", "licenses",
                           "licenses_at_renewal"])
    assert len(queries.captured_queries) == 1
    rows = {s.pk: s for s in Subscription.objects.filter(pk__in=[s.pk for s in [*subs, untouched]])}
    assert (rows[subs[0].pk].billed_until, rows[subs[0].pk].billed_amount, rows[subs[0].pk].licenses) == (
        dt.date(2026, 3, 1), Decimal("12.34"), 9)
    assert (rows[subs[1].pk].billed_until, rows[subs[1].pk].billed_amount, rows[subs[1].pk].licenses) == (None, None, 1)
    assert (rows[subs[2].pk].status, rows[subs[2].pk].status_until, rows[subs[2].pk].licenses_at_renewal) == (
        "expired", dt.date(2026, 2, 9), 3)
    assert rows[untouched.pk].licenses == 7


@pytest.mark.django_db
def test_rows_update_of_nothing_writes_nothing():
    with CaptureQueriesContext(connection) as queries:
        rows_update([], ["licenses"])
    assert queries.captured_queries == []
