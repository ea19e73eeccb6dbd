"""manage.py import_tenant and its service: SKUs the catalog lacks left out and listed, plans it doesn't know
kept by the file's name, the real world's states kept (more users than licenses stays the blocker it is), what
Graph doesn't say asked for with defaults, the same tenant again refused with a pointer to --replace, which
swaps it whole; pseudonyms stable."""

import copy

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from billing.models import Subscription
from licensing.models import DirectoryUser, LicenseAssignment
from portal.models import Tenant
from simulation.imports.convert import Choices
from simulation.imports.export_file import ExportRefused
from simulation.imports.service import tenant_import
from tests.simulation.conftest import counts, raw
from tests.simulation.tenants import DOMAIN, tenant_state

pytestmark = pytest.mark.django_db
VISIO = "c5928f49-12ba-48f7-ada3-0d743a3601d5"
NEW_PLAN = "0f0e0d0c-0b0a-4999-8888-777766665555"
BASIC = "3b555118-da6a-4418-894f-7df1e2096870"


def _user(data, upn):
    return next(u for u in data["users"][0]["value"] if u["userPrincipalName"] == upn)


def test_a_sku_the_catalog_lacks_is_left_out_and_listed_with_its_users(exported):
    data, before = exported
    data["subscribedSkus"]["value"].append({"skuId": VISIO, "skuPartNumber": "VISIOCLIENT", "consumedUnits": 1,
                                            "prepaidUnits": {"enabled": 5, "suspended": 0, "warning": 0,
                                                             "lockedOut": 0}, "servicePlans": []})
    data["directory/subscriptions"]["value"].append({"id": "7e0a0003-0000-4000-8000-0000000000ff", "skuId": VISIO,
                                                     "status": "Enabled", "totalLicenses": 5, "isTrial": False})
    _user(data, "anna@rehearsal.example")["assignedLicenses"].append({"skuId": VISIO, "disabledPlans": []})
    result = tenant_import(actor="support@portal.local", raw=raw(data), choices=Choices())
    assert result.unknown_skus == [{"skuId": VISIO, "skuPartNumber": "VISIOCLIENT", "licenses": 5, "users": 1}]
    assert tenant_state(DOMAIN) == before


def test_a_plan_the_catalog_doesnt_know_is_kept_by_the_files_name(exported):
    data, _before = exported
    basic = next(s for s in data["subscribedSkus"]["value"] if s["skuId"] == BASIC)
    basic["servicePlans"].append({"servicePlanId": NEW_PLAN, "servicePlanName": "NEW_PLAN_2026",
                                  "provisioningStatus": "Success", "appliesTo": "User"})
    _user(data, "anna@rehearsal.example")["assignedLicenses"][0]["disabledPlans"].append(NEW_PLAN)
    result = tenant_import(actor="support@portal.local", raw=raw(data), choices=Choices())
    assert result.unknown_plans == [{"servicePlanId": NEW_PLAN, "name": "NEW_PLAN_2026", "users": 1}]
    anna = LicenseAssignment.objects.get(user__upn="anna@rehearsal.example")
    assert anna.disabled_plans == ["FORMS_PLAN_E1", "NEW_PLAN_2026", "YAMMER_ENTERPRISE"]


def test_more_users_than_licenses_stays_the_blocker_and_the_admin_login_works(exported):
    data, _before = exported
    result = tenant_import(actor="support@portal.local", raw=raw(data), choices=Choices(agreement="MCA", term="P1M", payment="invoice"))
    basic = Subscription.objects.get(tenant__domain=DOMAIN, product__sku="O365_BUSINESS_ESSENTIALS")
    assert (basic.licenses, basic.assigned_licenses, basic.term, basic.billing_frequency) == (3, 4, "P1M", "monthly")
    assert result.tenant.agreement == "MCA" and basic.billing_profile.name == "Rehearsal AB billing"
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {result.token}")
    answer = api.get(f"/api/v1/subscriptions/{basic.pk}/upgrades/").json()
    assert "users_exceed_licenses" in [b["code"] for b in answer["blockers"]]
    assert get_user_model().objects.get(username=result.admin).check_password(result.password)
    assert ("agreement", "MCA") in result.assumed and ("payment", "invoice") in result.assumed


def test_the_same_tenant_again_is_refused_with_a_pointer_to_replace_which_swaps_it_whole(exported):
    data, before = exported
    first = tenant_import(actor="support@portal.local", raw=raw(data), choices=Choices())
    written = counts()
    with pytest.raises(ExportRefused) as refused:
        tenant_import(actor="support@portal.local", raw=raw(data), choices=Choices())
    assert (refused.value.code, refused.value.status) == ("tenant_already_imported", 409)
    assert str(refused.value.detail) == ("Rehearsal AB (rehearsal.example) is in the portal already. Import it "
                                         "again with --replace (the upload page's \"Replace it\") to swap it whole.")
    assert counts() == written
    smaller = copy.deepcopy(data)
    smaller["users"][0]["value"] = smaller["users"][0]["value"][:2]
    second = tenant_import(actor="support@portal.local", raw=raw(smaller), choices=Choices(), replace=True)
    assert second.replaced and not Tenant.objects.filter(pk=first.tenant.pk).exists()
    assert sorted(DirectoryUser.objects.values_list("upn", flat=True)) == ["anna@rehearsal.example",
                                                                           "bo@rehearsal.example"]
    assert not get_user_model().objects.get(username=first.admin).check_password(first.password)


@pytest.mark.parametrize("status", ["queued", "running"])
def test_a_tenant_whose_plan_change_is_under_way_is_not_replaced(exported, status):
    """A replace deletes the tenant's rows: never under a plan change a worker is running (its workflow would
    find its change gone). Refused as every edit of a subscription under change is, nothing written; a change
    only scheduled goes with the tenant it belongs to."""
    from planchange.models import PlanChange
    from tests.factories import PlanChangeFactory

    data, _before = exported
    first = tenant_import(actor="support@portal.local", raw=raw(data), choices=Choices())
    sub = Subscription.objects.filter(tenant=first.tenant).first()
    change = PlanChangeFactory(tenant=first.tenant, subscription=sub, status=status)
    written = counts()
    with pytest.raises(ExportRefused) as refused:
        tenant_import(actor="support@portal.local", raw=raw(data), choices=Choices(), replace=True)
    assert (refused.value.code, refused.value.status) == ("change_in_progress", 409)
    assert str(refused.value.detail) == ("Rehearsal AB (rehearsal.example) has a plan change under way; replace it "
                                         "when the change has finished.")
    assert counts() == written and PlanChange.objects.filter(pk=change.pk, status=status).exists()
    PlanChange.objects.filter(pk=change.pk).update(status="scheduled")
    assert tenant_import(actor="support@portal.local", raw=raw(data), choices=Choices(), replace=True).replaced


def test_pseudonyms_are_stable(exported):
    data, _before = exported
    tenant_import(actor="support@portal.local", raw=raw(data), choices=Choices(anonymize=True))
    first = sorted(DirectoryUser.objects.values_list("upn", "display_name"))
    tenant_import(actor="support@portal.local", raw=raw(data), choices=Choices(anonymize=True), replace=True)
    assert sorted(DirectoryUser.objects.values_list("upn", "display_name")) == first
    assert len({upn for upn, _name in first}) == 7


def test_the_command_refuses_with_the_reason_and_writes_nothing(exported, tmp_path, capsys):
    path = tmp_path / "export.json"
    path.write_text("{not json")
    with pytest.raises(CommandError, match="import_not_json"):
        call_command("import_tenant", str(path))
    assert "refused, nothing imported: The file isn't JSON: Expecting property name enclosed in double quotes at " \
           "line 1, column 2." in capsys.readouterr().err
    assert counts() == (0, 0, 0, 0)


def test_without_directory_subscriptions_the_prepaid_units_give_them(exported):
    data, before = exported
    del data["directory/subscriptions"]
    tenant_import(actor="support@portal.local", raw=raw(data), choices=Choices())
    subs = sorted((s.product.sku, s.licenses, s.status) for s in Subscription.objects.filter(tenant__domain=DOMAIN))
    assert subs == [("ENTERPRISEPACK", 25, "active"), ("EXCHANGEENTERPRISE", 2, "expired"),
                    ("O365_BUSINESS_ESSENTIALS", 3, "active"), ("O365_BUSINESS_PREMIUM", 10, "active")]
    assert tenant_state(DOMAIN)["users"] == before["users"]


def test_terms_per_subscription_and_a_plan_the_file_names_nowhere(exported, tmp_path, capsys):
    data, _before = exported
    _user(data, "eva@rehearsal.example")["assignedLicenses"][0]["disabledPlans"].append(NEW_PLAN)
    path = tmp_path / "export.json"
    path.write_bytes(raw(data))
    call_command("import_tenant", str(path), "--term", "P3Y", "--billing-frequency", "annual",
                 "--subscription-term", "O365_BUSINESS_PREMIUM=P1M/annual", "--payment", "invoice")
    terms = dict(Subscription.objects.filter(tenant__domain=DOMAIN).values_list("product__sku", "term"))
    assert terms == {"ENTERPRISEPACK": "P3Y", "EXCHANGEENTERPRISE": "P3Y", "O365_BUSINESS_ESSENTIALS": "P3Y",
                     "O365_BUSINESS_PREMIUM": "P1M"}
    std = Subscription.objects.get(tenant__domain=DOMAIN, product__sku="O365_BUSINESS_PREMIUM")
    assert (std.billing_frequency, std.payment) == ("monthly", "invoice")  # a monthly commitment is billed monthly
    eva = LicenseAssignment.objects.get(user__upn="eva@rehearsal.example")
    assert eva.disabled_plans == [NEW_PLAN, "YAMMER_ENTERPRISE"]
    printed = capsys.readouterr().out
    assert f"  {NEW_PLAN} ({NEW_PLAN}): off for 1 users" in printed
    assert "  O365_BUSINESS_PREMIUM 7e0a0003-" in printed and ": P1M monthly" in printed
