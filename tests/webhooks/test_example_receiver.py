"""examples/webhook_receiver.py, run as its own process, against real signed deliveries: a good one
is printed once (a resend of it is answered but not printed again), a tampered one is refused."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from portal.services import event_record
from tests.factories import mosa_standard, webhook_endpoint
from tests.worker import free_port, wait_for
from webhooks.models import Attempt, Delivery
from webhooks.services import delivery_attempt, delivery_resend, fan_out

pytestmark = pytest.mark.django_db

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "webhook_receiver.py"


def test_the_example_receiver_verifies_and_prints_a_real_delivery(at_date, settings, tmp_path):
    at_date("2026-06-16")
    settings.PORTAL_WEBHOOKS_ALLOW_PRIVATE = True
    tenant, _card, std, _users = mosa_standard()
    port = free_port()
    endpoint = webhook_endpoint(tenant, url=f"http://127.0.0.1:{port}/", events=["subscription.updated"])
    out = (tmp_path / "receiver.out").open("w")
    proc = subprocess.Popen([sys.executable, str(EXAMPLE), "--port", str(port)], stdout=out,  # noqa: S603
                            stderr=subprocess.STDOUT, env={**os.environ, "WEBHOOK_SECRET": endpoint.secret})
    try:
        wait_for(lambda: "listening" in (tmp_path / "receiver.out").read_text(), timeout=20, what="the receiver")
        event_record(tenant=tenant, actor="t", verb="subscription.renewed", obj=std, data={"term_start": "2027-01-01"})
        (delivery_id,) = fan_out()
        assert delivery_attempt(delivery_id) == ("delivered", None)
        delivery_resend(tenant=tenant, endpoint_id=endpoint.pk, delivery_id=delivery_id, actor="t")
        assert delivery_attempt(delivery_id) == ("delivered", None)
        # The same body signed with another secret is refused.
        Delivery.objects.filter(endpoint=endpoint).update(status="failed")
        endpoint.secret = "whsec_" + "A" * 32
        endpoint.save()
        delivery_resend(tenant=tenant, endpoint_id=endpoint.pk, delivery_id=delivery_id, actor="t")
        assert delivery_attempt(delivery_id)[0] == "retry"
        time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        out.close()
    lines = (tmp_path / "receiver.out").read_text().splitlines()
    printed = [json.loads(line) for line in lines if line.startswith("{")]
    assert len(printed) == 1
    assert (printed[0]["type"], printed[0]["data"]["subscription"]["id"]) == ("subscription.updated", std.pk)
    assert printed[0]["id"] == Delivery.objects.get().message_id
    assert any(line.startswith("refused: No matching signature") for line in lines)
    assert list(Attempt.objects.order_by("number").values_list("status_code", flat=True)) == [204, 204, 401]
