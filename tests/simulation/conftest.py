"""An export of the rehearsal tenant as examples/export_tenant.py writes it (Graph's answers from
/graph/v1.0/, read in-process here; tests/simulation/test_import_round_trip.py runs the script itself), with
the tenant gone again: the database as before it was loaded, but for the catalog."""

import copy
import json

import pytest
from rest_framework.test import APIClient

from billing.models import Subscription
from licensing.models import DirectoryUser
from portal.models import Event, Tenant
from simulation.imports.service import _tenant_forget
from simulation.scenarios import scenario_load
from tests.simulation.tenants import DOMAIN, SCENARIO, TOKEN, tenant_state

SELECT = "id,userPrincipalName,displayName,usageLocation,accountEnabled,assignedLicenses"


def _get(api, path: str, **params) -> dict:
    response = api.get(f"/graph/v1.0/{path}", params)
    assert response.status_code == 200, response.content
    return response.json()


def rehearsal_export() -> tuple[dict, dict]:
    """The rehearsal tenant loaded, exported from /graph/v1.0/ and forgotten again: (the export as a dict, the
    tenant's state before it was forgotten)."""
    scenario_load(copy.deepcopy(SCENARIO))
    before = tenant_state(DOMAIN)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    data = {"@export": {"format": "plan-change-portal/graph-export", "version": 1},
            "organization": _get(api, "organization"), "subscribedSkus": _get(api, "subscribedSkus"),
            "directory/subscriptions": _get(api, "directory/subscriptions"),
            "users": [_get(api, "users", **{"$select": SELECT, "$top": "999"})]}
    _tenant_forget(Tenant.objects.get(domain=DOMAIN))
    Event.objects.all().delete()
    return data, before


@pytest.fixture
def exported(db):
    """(the export as a dict, the tenant's state before it was forgotten)."""
    return rehearsal_export()


def raw(data) -> bytes:
    return json.dumps(data).encode()


def counts() -> tuple[int, int, int, int]:
    """What an import writes, counted: nothing of it may be there after a refusal."""
    return (Tenant.objects.count(), Subscription.objects.count(), DirectoryUser.objects.count(),
            Event.objects.count())
