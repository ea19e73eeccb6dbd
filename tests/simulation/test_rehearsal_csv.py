"""The rehearsal's answer for the imported tenant itself: POST plan-changes/preview/ gives each user's change
as JSON or, with Accept: text/csv, as CSV (every user; ?only= narrows it), the same rows."""

import csv
import io

import pytest
from rest_framework.test import APIClient

from billing.models import Subscription
from simulation.imports.convert import Choices
from simulation.imports.service import tenant_import
from tests.simulation.conftest import raw
from tests.simulation.tenants import DOMAIN

pytestmark = pytest.mark.django_db


def imported(data):
    result = tenant_import(actor="support@portal.local", raw=raw(data), choices=Choices())
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {result.token}")
    return api, Subscription.objects.get(tenant__domain=DOMAIN, product__sku="O365_BUSINESS_ESSENTIALS")


@pytest.fixture
def rehearsal(exported):
    """The imported tenant's admin (an API client) and its Business Basic subscription, which has bought the
    licenses its four users need."""
    data = exported[0]
    basic = next(s for s in data["directory/subscriptions"]["value"] if s["skuPartNumber"] == "O365_BUSINESS_ESSENTIALS")
    basic["totalLicenses"] = 5
    return imported(data)


def test_as_exported_the_blocker_is_the_answer_in_json_and_in_csv(exported):
    api, basic = imported(exported[0])
    for accept in ("application/json", "text/csv"):
        response = preview(api, basic, accept)
        assert (response.status_code, response["Content-Type"]) == (422, "application/problem+json")
        assert [b["code"] for b in response.json()["blockers"]] == ["users_exceed_licenses"]


def preview(api, basic, accept="application/json", query=""):
    return api.post(f"/api/v1/plan-changes/preview/{query}", {"subscription": basic.pk, "target_sku": "SPB"},
                    format="json", HTTP_ACCEPT=accept)


def test_the_csv_has_every_user_of_the_subscription_with_the_same_rows_as_the_json(rehearsal):
    api, basic = rehearsal
    as_json = preview(api, basic).json()["users"]
    response = preview(api, basic, "text/csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="plan-change-users.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["user_principal_name", "from", "to", "services_gained", "services_lost", "turned_back_on",
                       "data_lost"]
    assert [r[0] for r in rows[1:]] == [u["upn"] for u in as_json] == [
        "anna@rehearsal.example", "bo@rehearsal.example", "cia@rehearsal.example", "dan@rehearsal.example"]
    for row, user in zip(rows[1:], as_json, strict=True):
        assert row[1:3] == ["Microsoft 365 Business Basic", "Microsoft 365 Business Premium"]
        assert row[3:] == ["; ".join(user[k]) for k in ("gained", "lost", "reset_disabled_plans", "data_lost")]
    gained = ("Microsoft Defender for Business; Microsoft Entra ID P1; Exchange Online Archiving; Microsoft Intune; "
              "Microsoft 365 Apps for business")
    assert rows[1][3:] == [f"{gained}; Viva Engage", "", "Viva Engage", ""]  # anna had Viva Engage off
    assert rows[3][3:] == [f"{gained}; SharePoint (Plan 1)", "", "SharePoint (Plan 1)", ""]  # cia, SharePoint off


def test_only_narrows_the_rows_and_a_refusal_is_still_a_problem(rehearsal):
    api, basic = rehearsal
    rows = list(csv.reader(io.StringIO(preview(api, basic, "text/csv", "?only=settings_reset").content.decode())))
    assert [r[0] for r in rows[1:]] == ["anna@rehearsal.example", "cia@rehearsal.example"]
    refused = preview(api, basic, "text/csv", "?only=everything")
    assert (refused.status_code, refused["Content-Type"]) == (400, "application/problem+json")
    assert refused.json()["errors"] == {"only": ["Give one of: gains, losses, data_lost, settings_reset."]}
    missing = api.post("/api/v1/plan-changes/preview/", {"subscription": 999999, "target_sku": "SPB"}, format="json",
                       HTTP_ACCEPT="text/csv")
    assert (missing.status_code, missing["Content-Type"]) == (404, "application/problem+json")

