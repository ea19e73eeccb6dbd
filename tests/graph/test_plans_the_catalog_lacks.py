"""Turned-off service plans the catalog doesn't list (a Graph export's, imported through the support console's
upload page; a scenario file's ``other_plans``) are answered by their servicePlanId like any other, so a
script's read-modify-write through assignLicense (GET the user's assignedLicenses, POST that SKU's
disabledPlans plus one more) keeps them off, and licenseDetails shows them Disabled."""

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from msgraph.generated.models.license_details_collection_response import LicenseDetailsCollectionResponse
from msgraph.generated.models.user import User
from rest_framework.test import APIClient

from licensing.models import LicenseAssignment
from portal.models import Event
from simulation.scenarios import scenario_load
from tests.factories import token_for
from tests.graph.conftest import BASE, BASIC, FORMS_E1, YAMMER, graph_error, sdk
from tests.simulation.conftest import raw, rehearsal_export

pytestmark = pytest.mark.django_db
NEW_PLAN = "0f0e0d0c-0b0a-4999-8888-777766665555"  # no product of Microsoft's reference lists it
SWAY = "a23b959c-7ce8-4e57-9140-b90eb88a9e97"
ANNA = "anna@rehearsal.example"


def _imported(client, staff) -> APIClient:
    """The rehearsal tenant exported, anna's Business Basic with NEW_PLAN_2026 off too, uploaded on the support
    console's page; a Graph client of the admin the import made."""
    data, _before = rehearsal_export()
    basic = next(s for s in data["subscribedSkus"]["value"] if s["skuId"] == BASIC)
    basic["servicePlans"].append({"servicePlanId": NEW_PLAN, "servicePlanName": "NEW_PLAN_2026",
                                  "provisioningStatus": "Success", "appliesTo": "User"})
    anna = next(u for u in data["users"][0]["value"] if u["userPrincipalName"] == ANNA)
    anna["assignedLicenses"][0]["disabledPlans"].append(NEW_PLAN)
    page = client.post("/support/tenants/import/", {
        "file": SimpleUploadedFile("export.json", raw(data), content_type="application/json"), "agreement": "MOSA",
        "kind": "commercial", "term": "P1Y", "billing_frequency": "monthly", "payment": "card", "admin": ""})
    assert page.status_code == 200, page.content
    api = APIClient()
    admin = get_user_model().objects.get(username="admin@rehearsal.example")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(admin)}")
    return api


def _disabled(api, upn=ANNA) -> list[str]:
    got = sdk(User, api.get(f"{BASE}/users/{upn}", {"$select": "assignedLicenses,licenseAssignmentStates"}))
    (basic,) = [a for a in got.assigned_licenses if str(a.sku_id) == BASIC]
    (state,) = [s for s in got.license_assignment_states if str(s.sku_id) == BASIC]
    assert state.disabled_plans == basic.disabled_plans
    return [str(p) for p in basic.disabled_plans]


def _assign(api, disabled: list[str], upn=ANNA):
    return api.post(f"{BASE}/users/{upn}/assignLicense",
                    {"addLicenses": [{"skuId": BASIC, "disabledPlans": disabled}], "removeLicenses": []},
                    format="json")


def test_an_imported_plan_stays_off_through_a_read_modify_write(client, staff):
    api = _imported(client, staff)
    disabled = _disabled(api)
    assert sorted(disabled) == sorted([FORMS_E1, NEW_PLAN, YAMMER])  # Graph shows every plan that is off
    Event.objects.all().delete()
    assert _assign(api, [*disabled, SWAY]).status_code == 200
    anna = LicenseAssignment.objects.get(user__upn=ANNA)
    assert anna.disabled_plans == ["FORMS_PLAN_E1", "NEW_PLAN_2026", "SWAY", "YAMMER_ENTERPRISE"]
    (event,) = Event.objects.all()
    assert event.verb == "licenses.changed" and event.data["via"] == "graph"
    assert event.data["added"] == [{"subscription": anna.subscription_id, "sku": "O365_BUSINESS_ESSENTIALS",
                                    "disabled_plans": ["FORMS_PLAN_E1", "NEW_PLAN_2026", "SWAY",
                                                       "YAMMER_ENTERPRISE"]}]
    assert sorted(_disabled(api)) == sorted([FORMS_E1, NEW_PLAN, SWAY, YAMMER])
    details = sdk(LicenseDetailsCollectionResponse, api.get(f"{BASE}/users/{ANNA}/licenseDetails"))
    plans = {str(p.service_plan_id): (p.service_plan_name, p.provisioning_status)
             for d in details.value for p in d.service_plans}
    assert plans[NEW_PLAN] == ("NEW_PLAN_2026", "Disabled") and plans[SWAY] == ("SWAY", "Disabled")
    assert plans["0feaeb32-d00e-4d66-bd5a-43b5b83db82c"][1] == "Success"  # Skype (MCOSTANDARD) stays on
    sku = api.get(f"{BASE}/subscribedSkus", {"$select": "skuId,servicePlans"}).json()["value"]
    (basic,) = [s for s in sku if s["skuId"] == BASIC]
    assert [(p["servicePlanId"], p["servicePlanName"]) for p in basic["servicePlans"]][-1] == (NEW_PLAN, "NEW_PLAN_2026")


def test_a_client_that_leaves_it_out_turns_it_on_as_graph_does(client, staff):
    api = _imported(client, staff)
    assert _assign(api, [FORMS_E1]).status_code == 200  # disabledPlans replaces the SKU's whole set
    assert LicenseAssignment.objects.get(user__upn=ANNA).disabled_plans == ["FORMS_PLAN_E1"]
    assert _assign(api, [FORMS_E1, NEW_PLAN]).status_code == 200  # and the plan can be turned off again by its id
    assert LicenseAssignment.objects.get(user__upn=ANNA).disabled_plans == ["FORMS_PLAN_E1", "NEW_PLAN_2026"]


def test_another_tenants_plan_is_no_plan_of_this_one(client, staff):
    api = _imported(client, staff)
    scenario_load({"tenants": [{
        "name": "Fabrikam", "domain": "fabrikam.example",
        "admins": [{"username": "admin@fabrikam.example", "password": "x-Fabrikam-2026", "roles": ["global_admin"],
                    "api_token": "fabrikam-token"}],
        "subscriptions": [{"key": "basic", "sku": "O365_BUSINESS_ESSENTIALS", "licenses": 2}],
        "users": [{"upn": "ola@fabrikam.example", "usage_location": "SE", "licenses": [{"subscription": "basic"}]}],
    }]})
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION="Bearer fabrikam-token")
    refused = _assign(other, [NEW_PLAN], upn="ola@fabrikam.example")
    assert graph_error(refused, 400, "Request_BadRequest") == f"Service plan {NEW_PLAN} is not part of the license {BASIC}."
    assert LicenseAssignment.objects.get(user__upn="ola@fabrikam.example").disabled_plans == []
    assert _disabled(api) != []


def test_a_scenarios_other_plan_gets_a_stable_id_and_stays_off(db):
    scenario_load({"clock": "2026-06-15", "tenants": [{
        "name": "Fabrikam", "domain": "fabrikam.example",
        "admins": [{"username": "admin@fabrikam.example", "password": "x-Fabrikam-2026", "roles": ["global_admin"],
                    "api_token": "fabrikam-token"}],
        "subscriptions": [{"key": "basic", "sku": "O365_BUSINESS_ESSENTIALS", "licenses": 2,
                           "other_plans": ["LEGACY_PLAN"]}],
        "users": [{"upn": "ola@fabrikam.example", "usage_location": "SE",
                   "licenses": [{"subscription": "basic", "disabled_plans": ["LEGACY_PLAN"]}]}],
    }]})
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Bearer fabrikam-token")
    (legacy,) = _disabled(api, upn="ola@fabrikam.example")
    assert _assign(api, [legacy, SWAY], upn="ola@fabrikam.example").status_code == 200
    assert LicenseAssignment.objects.get(user__upn="ola@fabrikam.example").disabled_plans == ["LEGACY_PLAN", "SWAY"]
    assert _disabled(api, upn="ola@fabrikam.example") == [legacy, SWAY]
