"""examples/graph_move_users.py, the script an admin would write with msgraph-sdk, against a live portal loaded
with the demo: it moves every Business Basic user to Business Standard in $batches, keeps each user's plans
off, reads licenseDetails back and reports the refusal; the database says the same."""

import subprocess
import sys

import pytest

from billing.models import Subscription
from licensing.models import DirectoryUser, LicenseAssignment
from portal.models import Event
from simulation.scenarios import scenario_load
from tests.factories import LicenseFactory
from tests.portalctl.conftest import ROOT
from tests.worker import web_server

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

TOKEN = "contoso-global-admin-demo-token"  # scenarios/demo.json


@pytest.fixture(scope="module")
def graph_url(django_db_setup, tmp_path_factory):
    with web_server(tmp_path_factory.mktemp("web") / "web.log") as url:
        yield f"{url}/graph/v1.0"


def licenses(domain: str) -> dict[str, list]:
    rows: dict[str, list] = {}
    for upn, sku, off in LicenseAssignment.objects.filter(user__tenant__domain=domain).values_list(
            "user__upn", "subscription__product__sku", "disabled_plans").order_by("user__upn", "subscription_id"):
        rows.setdefault(upn, []).append((sku, off))
    return rows


def test_the_script_moves_the_demos_business_basic_users(graph_url):
    import json
    from pathlib import Path

    scenario_load(json.loads((Path(ROOT) / "scenarios" / "demo.json").read_text()))
    basic = Subscription.objects.get(tenant__domain="contoso.com", product__sku="O365_BUSINESS_ESSENTIALS")
    standard = Subscription.objects.get(tenant__domain="contoso.com", product__sku="O365_BUSINESS_PREMIUM")
    LicenseAssignment.objects.filter(subscription=basic, user__upn="elsa@contoso.com").update(
        disabled_plans=["YAMMER_ENTERPRISE", "FORMS_PLAN_E1"])
    # One more Business Basic user, without a usage location: Graph refuses her a license.
    nova = DirectoryUser.objects.create(tenant=basic.tenant, upn="nova@contoso.com", display_name="Nova")
    LicenseFactory(subscription=basic, user=nova)
    before = licenses("contoso.com")
    assert (basic.assigned_licenses, standard.assigned_licenses, standard.licenses) == (6, 22, 25)

    run = subprocess.run([sys.executable, "examples/graph_move_users.py", "--base-url", graph_url, "--token", TOKEN],
                         cwd=ROOT, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "O365_BUSINESS_ESSENTIALS" in run.stdout and "6 users hold O365_BUSINESS_ESSENTIALS" in run.stdout
    assert "5 moved, 1 refused." in run.stdout
    assert ("refused  nova@contoso.com: 400 Request_BadRequest: License assignment cannot be done for user with "
            "invalid usage location.") in run.stdout
    assert "BUT" not in run.stdout

    after = licenses("contoso.com")
    for upn in ("alice@contoso.com", "bjorn@contoso.com"):  # they had Business Standard already: kept as it was
        assert after[upn] == [entry for entry in before[upn] if entry[0] == "O365_BUSINESS_PREMIUM"]
    assert after["elsa@contoso.com"] == [("O365_BUSINESS_PREMIUM", ["FORMS_PLAN_E1", "YAMMER_ENTERPRISE"])]
    assert after["linnea@contoso.com"] == after["oskar@contoso.com"] == [("O365_BUSINESS_PREMIUM", [])]
    assert after["nova@contoso.com"] == [("O365_BUSINESS_ESSENTIALS", [])]
    basic.refresh_from_db()
    standard.refresh_from_db()
    assert (basic.assigned_licenses, standard.assigned_licenses) == (1, 25)
    events = Event.objects.filter(verb="licenses.changed").order_by("data__user")
    assert [(e.data["user"], e.data["via"], e.actor) for e in events] == [
        (f"{name}@contoso.com", "graph", "admin@contoso.com") for name in ("alice", "bjorn", "elsa", "linnea", "oskar")]
