"""Webhooks under concurrency, on real transactions (found by probing, probe2): two fan-outs at once
(beat's and a wake's) make each delivery once; deleting an endpoint while a worker records an attempt
at one of its deliveries takes the locks in the same order (endpoint, then delivery), so neither fails
with a deadlock on PostgreSQL."""

import threading
import time

import pytest
from django.db import connections, transaction

from portal.services import event_record
from tests.factories import mosa_standard, webhook_endpoint
from webhooks.models import Delivery, Endpoint
from webhooks.services import endpoint_delete, fan_out

pytestmark = pytest.mark.django_db(transaction=True)


def run_together(*works) -> list[str]:
    errors, start = [], threading.Barrier(len(works))

    def run(work):
        try:
            start.wait()
            work()
        except Exception as exc:  # noqa: BLE001 - collected and asserted by the caller
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(work,)) for work in works]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


def test_two_fan_outs_at_once_make_each_delivery_once(at_date):
    at_date("2026-06-16")
    tenant, _card, std, _users = mosa_standard()
    endpoints = [webhook_endpoint(tenant, url=f"https://93.184.215.14/{n}") for n in range(3)]
    for n in range(20):
        event_record(tenant=tenant, actor="t", verb="subscription.renewed", obj=std, data={"n": n})
    due: list[list[int]] = []
    assert run_together(*[lambda: due.append(fan_out())] * 4) == []
    assert Delivery.objects.count() == 20 * len(endpoints)
    assert Delivery.objects.values("endpoint", "event").distinct().count() == 20 * len(endpoints)
    assert fan_out() and Delivery.objects.count() == 20 * len(endpoints)  # and again: nothing new


def test_deleting_an_endpoint_while_an_attempt_is_recorded_fails_neither(at_date):
    at_date("2026-06-16")
    tenant, _card, std, _users = mosa_standard()
    endpoint = webhook_endpoint(tenant, url="https://93.184.215.14/hook")
    event_record(tenant=tenant, actor="t", verb="subscription.renewed", obj=std, data={})
    (delivery_id,) = fan_out()
    locked = threading.Event()

    def record():  # what services._attempt_record does: the endpoint's lock, then its delivery's
        with transaction.atomic():
            Endpoint.objects.select_for_update().get(pk=endpoint.pk)
            locked.set()
            time.sleep(1)  # the delete starts meanwhile
            Delivery.objects.select_for_update().filter(pk=delivery_id).first()

    def delete():
        locked.wait(10)
        endpoint_delete(tenant=tenant, endpoint_id=endpoint.pk, actor="admin@contoso.example")

    assert run_together(record, delete) == []
    assert not Endpoint.objects.exists() and not Delivery.objects.exists()
