"""A checkout POST and the change's validate step compute what a change needs once: the eligibility
engine runs once, the subscription row is locked once, and the queries are the same whatever the
tenant's size (pinned here at two sizes; STYLE.md 9)."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from planchange import eligibility, workflow
from planchange.models import PlanChange
from tests.factories import admin_of, mosa_standard

pytestmark = pytest.mark.django_db

# Pinned: a change to these numbers is a change of the request's shape, to be looked at, not absorbed.
CHECKOUT_POST_QUERIES = 30  # was 49, with the eligibility engine run 4 times and the subscription locked twice;
# 34 before the lookup of a subscription of the target the change may go into (locked with it, in id order);
# 35 until the clock's offset was read once per transaction (issue 21), not at every clock.now()
VALIDATE_QUERIES = 20  # 21 while it read the target's product again (it comes with the change); 26 until the clock's offset was read once per transaction


@pytest.fixture
def count_eligibility(monkeypatch):
    calls = []
    real = eligibility.eligibility_contexts

    def counted(**kwargs):
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(eligibility, "eligibility_contexts", counted)
    return calls


def _checkout_post(client, at_date, users: int, *, counters=()) -> tuple[list[str], PlanChange]:
    """Contoso with ``users`` licensed users previews Business Premium on Checkout, then places the order:
    the queries of the POST alone (``counters`` are emptied before it)."""
    at_date("2026-06-16")
    tenant, card, std, licensed = mosa_standard(users=users, licenses=max(users, 25),
                                                domain=f"contoso{users}.example")
    client.force_login(admin_of(tenant))
    url = f"/billing/products/{std.pk}/upgrades/SPB/checkout/"
    quote_id = re.search(r'name="quote_id" value="(\d+)"', client.get(url).content.decode()).group(1)
    for counter in counters:
        counter.clear()
    with CaptureQueriesContext(connection) as captured:
        response = client.post(url, {"quote_id": quote_id, "payment_method": card.pk, "term": "P1Y",
                                     "billing_frequency": "monthly"})
    change = PlanChange.objects.get(subscription=std)
    assert response["Location"] == f"/billing/changes/{change.pk}/"
    return [q["sql"] for q in captured.captured_queries], change


@pytest.fixture
def count_locks(monkeypatch):
    """Each time billing locks subscription rows (``subscriptions_lock``, which every lock goes through)."""
    from billing.services import locks

    calls = []
    real = locks.subscriptions_lock

    def counted(**kwargs):
        calls.append(sorted(int(i) for i in kwargs["subscription_ids"]))
        return real(**kwargs)

    monkeypatch.setattr(locks, "subscriptions_lock", counted)
    return calls


def test_a_checkout_post_checks_eligibility_once_and_locks_the_subscription_once(client, at_date,
                                                                                 count_eligibility, count_locks):
    sqls, change = _checkout_post(client, at_date, users=3, counters=(count_eligibility, count_locks))
    assert len(count_eligibility) == 1
    assert count_locks == [[change.subscription_id]]
    assert len(sqls) == CHECKOUT_POST_QUERIES, "\n".join(sqls)


def test_a_checkout_post_reads_the_same_queries_for_3_and_30_users(client, at_date):
    few, _ = _checkout_post(client, at_date, users=3)
    client.logout()
    many, _ = _checkout_post(client, at_date, users=30)
    assert len(few) == len(many) == CHECKOUT_POST_QUERIES


def test_the_validate_step_checks_eligibility_once_in_the_same_queries_at_any_size(client, at_date,
                                                                                     count_eligibility):
    counts = []
    for users in (3, 30):
        _sqls, change = _checkout_post(client, at_date, users=users)
        client.logout()
        count_eligibility.clear()
        assert workflow._take(change.pk, "validate") == "claimed"
        with CaptureQueriesContext(connection) as captured:
            workflow.step_validate(change.pk)
        counts.append(len(captured.captured_queries))
        assert len(count_eligibility) == 1
        change.refresh_from_db()
        assert change.steps.get(name="validate").status == "done"
    assert counts == [VALIDATE_QUERIES, VALIDATE_QUERIES]
