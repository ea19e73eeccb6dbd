"""The round trip an admin makes: a tenant exported through /graph/v1.0/ by examples/export_tenant.py
(msgraph-sdk, against a live portal), imported into a fresh database by manage.py import_tenant, gives the
same subscriptions, users, licenses and disabled plans; anonymized, the same counts and patterns and none of
the names."""

import io
import json
import subprocess
import sys

import pytest
from django.apps import apps
from django.core.management import call_command

from billing.catalog import catalog_sync
from portal.models import Tenant
from simulation.scenarios import scenario_load
from tests.portalctl.conftest import ROOT
from tests.simulation.tenants import DOMAIN, NAMES, SCENARIO, TOKEN, pattern, tenant_state
from tests.worker import web_server

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def exported(tmp_path):
    """The scenario tenant, exported with examples/export_tenant.py against a live portal; then the database
    emptied as a fresh one is (the catalog only). Answers the file and the tenant's state before."""
    scenario_load(json.loads(json.dumps(SCENARIO)))
    before = tenant_state(DOMAIN)
    out = tmp_path / "export.json"
    with web_server(tmp_path / "web.log") as url:
        run = subprocess.run([sys.executable, "examples/export_tenant.py", "--base-url", f"{url}/graph/v1.0",
                              "--token", TOKEN, "-o", str(out)], cwd=ROOT, capture_output=True, text=True,
                             timeout=300, stdin=subprocess.DEVNULL)
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"{out}: 7 users, 4 SKUs, 4 subscriptions" in run.stderr
    call_command("flush", interactive=False, verbosity=0)
    catalog_sync(**{name: apps.get_model("billing", name)
                    for name in ("ServicePlan", "Product", "Offer", "AddOnProduct", "MicrosoftServicePlan")})
    assert not Tenant.objects.exists()
    return out, before


def test_the_export_is_graphs_answers_as_they_came(exported):
    out, _before = exported
    data = json.loads(out.read_text())
    assert list(data) == ["@export", "organization", "subscribedSkus", "directory/subscriptions", "users"]
    assert data["organization"]["value"][0]["displayName"] == "Rehearsal AB"
    assert data["subscribedSkus"]["@odata.context"].endswith("/$metadata#subscribedSkus")
    [page] = data["users"]
    assert [u["userPrincipalName"] for u in page["value"]][:2] == ["anna@rehearsal.example", "bo@rehearsal.example"]
    assert set(page["value"][0]) == {"id", "userPrincipalName", "displayName", "usageLocation", "accountEnabled",
                                     "assignedLicenses"}


def test_imported_into_a_fresh_database_it_is_the_same_tenant(exported, capsys):
    out, before = exported
    call_command("import_tenant", str(out))
    printed = capsys.readouterr().out
    assert "Imported Rehearsal AB (rehearsal.example): 7 users." in printed
    assert tenant_state(DOMAIN) == before
    assert "  agreement: MOSA" in printed and "Admin login (shown once): admin@rehearsal.example, password" in printed


def test_anonymized_it_keeps_the_counts_and_patterns_and_no_name(exported, capsys, caplog):
    out, before = exported
    caplog.set_level("DEBUG")
    call_command("import_tenant", str(out), "--anonymize")
    printed = capsys.readouterr().out
    [tenant] = Tenant.objects.all()
    assert tenant.domain.startswith("tenant-") and tenant.domain.endswith(".example")
    after = tenant_state(tenant.domain)
    assert pattern(after) == pattern(before)
    assert all(upn.startswith("user-") and upn.endswith(f"@{tenant.domain}") for upn in after["users"])
    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    written = dump.getvalue() + printed + caplog.text
    assert [name for name in NAMES if name.lower() in written.lower()] == []
