"""portal.bulk.rows_update and rows_insert: many rows' own values in a constant number of statements (COPY on
PostgreSQL), exactly as saved one by one."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import Subscription
from portal import clock
from portal.bulk import ids_draw, rows_insert, rows_update
from portal.models import Event
from tests.factories import SubscriptionFactory


@pytest.mark.django_db
def test_rows_update_writes_each_rows_own_values_in_the_same_statements_for_3_rows_or_150():
    clock.set_date(dt.date(2026, 1, 10))
    subs = [SubscriptionFactory(licenses=5) for _ in range(3)]
    untouched = SubscriptionFactory(licenses=7)
    subs[0].billed_until, subs[0].billed_amount, subs[0].licenses = dt.date(2026, 3, 1), Decimal("12.34"), 9
    subs[1].billed_until, subs[1].billed_amount, subs[1].licenses = None, None, 1  # NULLs go through too
    subs[2].status, subs[2].status_until, subs[2].licenses_at_renewal = "expired", dt.date(2026, 2, 9), 3
    with CaptureQueriesContext(connection) as queries:
        rows_update(subs, ["status", "status_until", "billed_until", "billed_amount", "licenses",
                           "licenses_at_renewal"])
    assert len(queries.captured_queries) == (4 if connection.vendor == "postgresql" else 1)
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


@pytest.mark.django_db
def test_rows_update_of_many_rows_costs_the_statements_of_three():
    subs = [SubscriptionFactory(licenses=5) for _ in range(150)]
    for i, sub in enumerate(subs):
        sub.licenses = 10 + i
    with CaptureQueriesContext(connection) as queries:
        rows_update(subs, ["licenses"])
    assert len(queries.captured_queries) == (4 if connection.vendor == "postgresql" else 1)
    assert list(Subscription.objects.filter(pk__in=[s.pk for s in subs]).order_by("pk")
                .values_list("licenses", flat=True)) == [10 + i for i in range(150)]
    subs[0].licenses = 1  # the values table was emptied: a second update writes only its own rows
    rows_update(subs[:1], ["licenses"])
    assert Subscription.objects.get(pk=subs[0].pk).licenses == 1
    assert Subscription.objects.get(pk=subs[1].pk).licenses == 11


@pytest.mark.django_db
def test_rows_insert_writes_every_field_as_saved_in_order_with_ids_when_asked():
    clock.set_date(dt.date(2026, 1, 10))
    sub = SubscriptionFactory()
    at = clock.now()
    events = [Event(tenant=sub.tenant if i % 2 else None, actor="system", verb=f"verb.{i}", object_type="",
                    object_id=str(i), data={"i": i, "lines": [{"amount": "1.10"}], "none": None}, occurred_at=at)
              for i in range(120)]
    with CaptureQueriesContext(connection) as queries:
        rows_insert(events, ids=True)
    assert len(queries.captured_queries) == (2 if connection.vendor == "postgresql" else 1)
    ids = [e.pk for e in events]
    assert ids == sorted(ids) and len(set(ids)) == 120
    stored = list(Event.objects.filter(pk__in=ids).order_by("pk"))
    assert [(e.tenant_id, e.verb, e.object_id, e.data, e.occurred_at) for e in stored] == [
        (sub.tenant_id if i % 2 else None, f"verb.{i}", str(i), {"i": i, "lines": [{"amount": "1.10"}], "none": None},
         at) for i in range(120)]
    assert all(e.recorded_at is not None for e in stored)  # auto_now_add, as save() does


@pytest.mark.django_db
def test_rows_insert_without_ids_writes_them_all_in_one_statement():
    events = [Event(actor="system", verb="v", occurred_at=clock.now()) for _ in range(40)]
    with CaptureQueriesContext(connection) as queries:
        rows_insert(events)
    assert len(queries.captured_queries) == 1
    assert Event.objects.filter(verb="v").count() == 40
    assert rows_insert([]) == []


@pytest.mark.django_db
def test_ids_drawn_first_are_the_ids_the_rows_are_written_with():
    """``ids_draw`` gives new instances their ids from the table's sequence (one statement), so what names them can
    be worked out before they are written; ``rows_insert`` then writes them with those ids (one more). Elsewhere
    than PostgreSQL it answers False and gives none: the ids come from inserting."""
    events = [Event(actor="system", verb="drawn", occurred_at=clock.now()) for _ in range(30)]
    with CaptureQueriesContext(connection) as queries:
        drawn = ids_draw(events)
    if connection.vendor != "postgresql":
        assert (drawn, [e.pk for e in events], len(queries.captured_queries)) == (False, [None] * 30, 0)
        return
    ids = [e.pk for e in events]
    assert drawn and len(queries.captured_queries) == 1 and ids == sorted(ids) and len(set(ids)) == 30
    assert not Event.objects.filter(verb="drawn").exists()
    late = Event(actor="system", verb="drawn", occurred_at=clock.now())  # one more, without: drawn as it is written
    with CaptureQueriesContext(connection) as queries:
        rows_insert([*events, late])
    assert len(queries.captured_queries) == 2 and late.pk > ids[-1]
    assert list(Event.objects.filter(verb="drawn").order_by("pk").values_list("pk", flat=True)) == [*ids, late.pk]


def _indexed(model) -> list[tuple]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
    return sorted(tuple(c["columns"]) for c in constraints.values() if c["index"] and not c["primary_key"])


@pytest.mark.django_db
def test_the_audit_trail_and_the_invoices_are_indexed_once_by_tenant():
    """Every read of the audit trail or the invoices by tenant (pages, the API, the day loop, the cascade of a
    tenant deleted) goes through the index on (tenant, occurred_at) or (tenant, due_date): the tenant's own index,
    one more write per row of the tables a clock move writes most, is not kept beside it. Beside it only the partial
    index of credit invoices (``invoice_credit``), which a row enters only when it is a credit."""
    from django.db.models import Q

    from billing.models import Invoice

    assert _indexed(Event) == [("tenant_id", "occurred_at")]
    assert [columns for columns in _indexed(Invoice) if "tenant_id" in columns] == [("tenant_id",),
                                                                                   ("tenant_id", "due_date")]
    assert [(index.fields, index.condition) for index in Invoice._meta.indexes if index.fields == ["tenant"]] == [
        (["tenant"], Q(total__lt=0))]


@pytest.mark.django_db
def test_rows_update_and_insert_take_what_save_takes_values_read_as_they_are_or_through_their_field():
    """The values PostgreSQL takes as they are (an int, a str or a member of a text choice, a Decimal, a date,
    an aware datetime) are read straight off the instance; any other goes through its field as ``save()`` does:
    a number written as text, a float, a datetime for a date, a naive datetime, a field deferred by ``only()`` (fetched)."""
    clock.set_date(dt.date(2026, 1, 10))
    sub = SubscriptionFactory(licenses=5)
    sub.licenses, sub.billed_amount, sub.billed_until = "9", 12.5, dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
    sub.status = Subscription.Status.EXPIRED
    sub.provisioning_until = dt.datetime(2026, 1, 11, 12, 0)  # noqa: DTZ001 - naive on purpose: the field makes it aware
    deferred = Subscription.objects.only("pk", "licenses").get(pk=SubscriptionFactory(licenses=3).pk)
    deferred.licenses = 4
    with pytest.warns(RuntimeWarning, match="naive datetime"):
        rows_update([sub], ["licenses", "billed_amount", "billed_until", "status", "provisioning_until"])
    rows_update([deferred], ["licenses", "status"])
    stored = Subscription.objects.get(pk=sub.pk)
    assert (stored.licenses, stored.billed_amount, stored.billed_until, stored.status) == (
        9, Decimal("12.50"), dt.date(2026, 3, 1), "expired")
    assert stored.provisioning_until == dt.datetime(2026, 1, 11, 12, 0, tzinfo=dt.UTC)
    assert Subscription.objects.get(pk=deferred.pk).licenses == 4
    events = rows_insert([Event(actor="system", verb=Subscription.Status.ACTIVE, object_id=7, occurred_at=clock.now())])
    assert Event.objects.filter(verb="active", object_id="7").count() == len(events) == 1


@pytest.mark.django_db
def test_rows_update_looks_its_rows_up_by_primary_key_in_a_large_table():
    """The values copied for an update are in a table the planner knows nothing of (never analyzed: it guesses
    thousands of rows), so it read the whole of the updated table to join them (a day late in a ten-year move
    updated a hundred invoices by reading 150,000). Told how many there are, it looks each up by its key."""
    if connection.vendor != "postgresql":
        pytest.skip("the values table and its plan are PostgreSQL's (elsewhere: a VALUES list)")
    rows_insert([Event(actor="system", verb="v", occurred_at=clock.now()) for _ in range(20_000)])
    some = list(Event.objects.order_by("pk")[:3])
    for event in some:
        event.actor = "support"
    plans = []

    def explained(execute, sql, params, many, context):
        if sql.startswith("UPDATE"):
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN " + sql, params)
                plans.append("\n".join(row[0] for row in cursor.fetchall()))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(explained):
        rows_update(some, ["actor"])
    assert len(plans) == 1
    assert "Index Scan using portal_event_pkey" in plans[0] and "Seq Scan on portal_event" not in plans[0], plans[0]
    assert sorted(Event.objects.filter(actor="support").values_list("pk", flat=True)) == [e.pk for e in some]


@pytest.mark.django_db
def test_statistics_refresh_analyzes_a_table_grown_past_its_statistics_and_then_leaves_it():
    from portal.bulk import statistics_refresh

    if connection.vendor != "postgresql":
        assert statistics_refresh([Event]) == []  # SQLite's planner is left as it is
        return
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE portal_event, billing_subscription")
    assert statistics_refresh([Event, Subscription]) == []  # nothing changed since
    rows_insert([Event(actor="system", verb="v", occurred_at=clock.now()) for _ in range(20_000)])
    assert statistics_refresh([Event, Subscription]) == ["portal_event"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'portal_event'")
        assert cursor.fetchone()[0] >= 20_000
    assert statistics_refresh([Event, Subscription]) == []
