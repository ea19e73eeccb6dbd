"""On a terminal, manage.py import_tenant asks for what Graph doesn't say and the options didn't (Enter takes
the stated default); without one, or with --no-input, it takes the defaults and says so."""

import os
import select
import subprocess
import sys
import time

import pytest

from billing.models import Subscription
from portal.models import Tenant
from tests.portalctl.conftest import ROOT
from tests.simulation.conftest import raw, rehearsal_export
from tests.simulation.tenants import DOMAIN
from tests.worker import worker_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _read_until(fd: int, text: str, seen: list[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while text not in "".join(seen):
        if time.monotonic() > deadline:
            raise AssertionError(f"waited for {text!r}; the terminal shows:\n{''.join(seen)[-2000:]}")
        ready, _w, _x = select.select([fd], [], [], 0.5)
        if ready:
            try:
                seen.append(os.read(fd, 4096).decode(errors="replace"))
            except OSError:  # the process ended
                break


def test_on_a_terminal_it_asks_and_enter_takes_the_default(tmp_path):
    path = tmp_path / "export.json"
    path.write_bytes(raw(rehearsal_export()[0]))
    master, slave = os.openpty()
    proc = subprocess.Popen([sys.executable, "manage.py", "import_tenant", str(path), "--kind", "commercial",  # noqa: S603
                             "--term", "P1Y"], stdin=slave, stdout=slave, stderr=slave, cwd=ROOT,
                            env={**worker_env(), "COLUMNS": "120", "TERM": "dumb"})
    os.close(slave)
    seen: list[str] = []
    for prompt, answer in (("Agreement (Graph doesn't say)", "MCA"), ("Billing frequency", ""),
                           ("Payment method", "invoice"), ("Admin login made for the import", "")):
        _read_until(master, prompt, seen)
        os.write(master, f"{answer}\r".encode())
    _read_until(master, "Admin login (shown once)", seen)
    assert proc.wait(timeout=60) == 0
    os.close(master)
    tenant = Tenant.objects.get(domain=DOMAIN)
    std = Subscription.objects.get(tenant=tenant, product__sku="O365_BUSINESS_PREMIUM")
    assert (tenant.agreement, std.term, std.billing_frequency, std.payment) == ("MCA", "P1Y", "monthly", "invoice")
    assert "[MOSA/MCA] (MOSA)" in "".join(seen)  # the choices and the default, stated
