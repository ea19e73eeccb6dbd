"""Receivers that misbehave can't hold a worker, make the portal send a message twice or break the
attempt log (found by probing, probe2): the timeout bounds a whole attempt, however slowly a receiver
trickles its answer; what a receiver answers is logged without NUL characters (PostgreSQL refuses them)."""

import time

import pytest
from django.conf import settings as django_settings

from portal.services import event_record
from tests.factories import admin_of, mosa_standard, webhook_endpoint
from tests.webhooks.receiver import raw_receiver
from webhooks.models import Attempt, AttemptError, Delivery
from webhooks.services import delivery_attempt, delivery_lease, fan_out

pytestmark = pytest.mark.django_db


@pytest.fixture
def contoso(at_date, settings):
    at_date("2026-06-16")
    settings.PORTAL_WEBHOOKS_ALLOW_PRIVATE = True  # the receivers listen on 127.0.0.1
    settings.PORTAL_WEBHOOKS_TIMEOUT = 1.0
    tenant, card, std, users = mosa_standard(users=3)
    return tenant, std, admin_of(tenant)


def one_delivery(tenant, std, url) -> int:
    webhook_endpoint(tenant, url=url)
    event_record(tenant=tenant, actor="t", verb="subscription.renewed", obj=std, data={})
    (delivery_id,) = fan_out()
    return delivery_id


def trickle(head: bytes):
    def answer(connection, stop):
        connection.sendall(head)
        for _ in range(100):  # a byte every 0.2 s for 20 s: never 1 s without one
            if stop.is_set():
                return
            connection.sendall(b"X")
            time.sleep(0.2)

    return answer


@pytest.mark.parametrize("head", [b"HTTP/1.1 200 OK\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n", b""],
                         ids=["headers", "body", "status-line"])
def test_a_receiver_trickling_its_answer_is_cut_off_at_the_timeout(contoso, head):
    tenant, std, admin = contoso
    with raw_receiver(trickle(head)) as url:
        delivery_id = one_delivery(tenant, std, url)
        started = time.monotonic()
        outcome, _delay = delivery_attempt(delivery_id)
        took = time.monotonic() - started
    if head.endswith(b"\r\n\r\n"):  # the status and headers came in time: an answer, its body is not waited for
        assert outcome == "delivered" and took < 2
        return
    assert took < 2, f"an attempt with a 1 s timeout held the worker {took:.1f} s"
    assert outcome == "retry"
    attempt = Attempt.objects.get()
    assert attempt.error_kind == AttemptError.TIMEOUT and attempt.error == "no answer within 1 s"
    assert attempt.status_code is None and attempt.duration_ms < 2000


def test_no_delivery_task_outlives_its_lease():
    """A claimed delivery is another worker's to send once its lease runs out: the task that holds it
    is stopped before that (else one message could be sent twice at once)."""
    from webhooks.tasks import deliver

    assert deliver.time_limit is not None and deliver.soft_time_limit is not None
    assert deliver.soft_time_limit < deliver.time_limit < delivery_lease().total_seconds()
    assert django_settings.PORTAL_WEBHOOKS_TIMEOUT * 2 < deliver.soft_time_limit


def test_nul_characters_in_an_answer_are_not_logged(contoso):
    tenant, std, admin = contoso

    def answer(connection, stop):
        connection.sendall(b"HTTP/1.1 500 Oops\r\nContent-Length: 7\r\n\r\nab\x00cd\x00e")

    with raw_receiver(answer) as url:
        delivery_id = one_delivery(tenant, std, url)
        assert delivery_attempt(delivery_id) == ("retry", 5.0)
    attempt = Attempt.objects.get()
    assert attempt.status_code == 500 and attempt.response == "ab\ufffdcd\ufffde"


def test_nul_characters_in_a_redirect_are_not_logged(contoso):
    tenant, std, admin = contoso

    def answer(connection, stop):
        connection.sendall(b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:9/\x00x\r\nContent-Length: 0\r\n\r\n")

    with raw_receiver(answer) as url:
        delivery_id = one_delivery(tenant, std, url)
        assert delivery_attempt(delivery_id)[0] == "retry"
    attempt = Attempt.objects.get()
    assert attempt.error_kind == AttemptError.REDIRECT and "\x00" not in attempt.error
    assert attempt.error == "redirect to http://127.0.0.1:9/\ufffdx not followed"
    assert Delivery.objects.get().status == "pending"
