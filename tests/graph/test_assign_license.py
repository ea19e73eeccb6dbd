"""POST users/{id}/assignLicense: add and remove in one transaction through licensing's services, disabled plans
kept as given, every rule of the portal in Graph's error shape, nothing written on a refusal, one audit event
"via Microsoft Graph"."""

import pytest
from msgraph.generated.models.user import User

from billing.models import Subscription
from billing.services import subscription_hold
from licensing.models import LicenseAssignment
from portal.models import Event
from portal.texts import event_key, render
from tests.factories import DirectoryUserFactory, LicenseFactory, SubscriptionFactory, TenantFactory, product
from tests.graph.conftest import BASE, BASIC, FORMS_E1, PREMIUM, STANDARD, YAMMER, graph_client, graph_error, sdk

pytestmark = pytest.mark.django_db

INTUNE_A = "c1ec4a95-1f05-45b3-a911-aa3fa01094f5"  # in Business Premium, not in Business Standard


def swap(disabled=()):
    return {"addLicenses": [{"skuId": STANDARD, "disabledPlans": list(disabled)}], "removeLicenses": [BASIC]}


def held(tenant) -> dict:
    return {upn: sorted((sku, tuple(off)) for sku, off in rows) for upn, rows in _rows(tenant).items()}


def _rows(tenant):
    rows: dict[str, list] = {}
    for upn, sku, off in LicenseAssignment.objects.filter(user__tenant=tenant).values_list(
            "user__upn", "subscription__product__sku", "disabled_plans"):
        rows.setdefault(upn, []).append((sku, off))
    return rows


def counts(*subs) -> list[int]:
    return [Subscription.objects.get(pk=s.pk).assigned_licenses for s in subs]


def test_a_swap_moves_the_user_in_one_call_keeping_the_disabled_plans_given(world):
    tenant, basic, standard, users = world
    api = graph_client(tenant, "license_admin")
    response = api.post(f"{BASE}/users/anna@contoso.example/assignLicense", swap([YAMMER]), format="json")
    assert response.status_code == 200
    user = sdk(User, response)
    assert [(str(a.sku_id), [str(p) for p in a.disabled_plans]) for a in user.assigned_licenses] == [
        (STANDARD, [YAMMER])]
    assert held(tenant)["anna@contoso.example"] == [("O365_BUSINESS_PREMIUM", ("YAMMER_ENTERPRISE",))]
    assert counts(basic, standard) == [2, 3]
    event = Event.objects.get(verb="licenses.changed")
    assert (event.actor, event.object_type, event.object_id) == (api.username, "licensing.directoryuser",
                                                                  str(users["anna"].pk))
    assert event.data == {"user": "anna@contoso.example", "via": "graph",
                          "added": [{"subscription": standard.pk, "sku": "O365_BUSINESS_PREMIUM",
                                     "disabled_plans": ["YAMMER_ENTERPRISE"]}],
                          "removed": [{"subscription": basic.pk, "sku": "O365_BUSINESS_ESSENTIALS"}]}
    assert render(event_key(event.verb), event.data) == (
        "Licenses of anna@contoso.example changed: added O365_BUSINESS_PREMIUM; removed O365_BUSINESS_ESSENTIALS. "
        "(via Microsoft Graph)")


@pytest.mark.parametrize("role", ["global_admin", "license_admin", "user_admin"])
def test_license_user_and_global_admins_assign(world, role):
    tenant, basic, standard, users = world
    api = graph_client(tenant, role)
    assert api.post(f"{BASE}/users/fred@contoso.example/assignLicense",
                    {"addLicenses": [{"skuId": BASIC}], "removeLicenses": []}, format="json").status_code == 200
    assert held(tenant)["fred@contoso.example"] == [("O365_BUSINESS_ESSENTIALS", ())]


@pytest.mark.parametrize("role", ["global_reader", "billing_admin", "service_support_admin"])
def test_other_roles_read_and_are_refused_403(world, role):
    tenant, basic, standard, users = world
    api = graph_client(tenant, role)
    assert api.get(f"{BASE}/users").status_code == 200
    graph_error(api.post(f"{BASE}/users/anna@contoso.example/assignLicense", swap(), format="json"), 403,
                "Authorization_RequestDenied")
    assert held(tenant)["anna@contoso.example"] == [("O365_BUSINESS_ESSENTIALS", ("YAMMER_ENTERPRISE",))]
    assert not Event.objects.filter(verb="licenses.changed").exists()


def test_re_adding_a_license_the_user_has_sets_its_disabled_plans(world):
    tenant, basic, standard, users = world
    api = graph_client(tenant)
    body = {"addLicenses": [{"skuId": STANDARD, "disabledPlans": [YAMMER, FORMS_E1]}], "removeLicenses": []}
    assert api.post(f"{BASE}/users/eva@contoso.example/assignLicense", body, format="json").status_code == 200
    assert held(tenant)["eva@contoso.example"] == [("O365_BUSINESS_PREMIUM", ("FORMS_PLAN_E1", "YAMMER_ENTERPRISE"))]
    assert counts(standard) == [2]


def test_a_license_comes_from_the_oldest_subscription_of_the_sku_with_one_free(world):
    tenant, basic, standard, users = world
    LicenseFactory(subscription=standard, user=DirectoryUserFactory(tenant=tenant))
    LicenseFactory(subscription=standard, user=DirectoryUserFactory(tenant=tenant))
    later = SubscriptionFactory(tenant=tenant, product=product("O365_BUSINESS_PREMIUM"), licenses=2)
    api = graph_client(tenant)
    assert api.post(f"{BASE}/users/anna@contoso.example/assignLicense", swap(), format="json").status_code == 200
    assert LicenseAssignment.objects.get(user=users["anna"]).subscription_id == later.pk
    assert counts(basic, standard, later) == [2, 4, 1]


def refused(tenant, response, status, code):
    before = held(tenant)
    message = graph_error(response, status, code)
    assert held(tenant) == before
    assert not Event.objects.filter(verb="licenses.changed").exists()
    return message


def test_no_free_license_refuses_and_writes_nothing(world):
    tenant, basic, standard, users = world
    for _ in range(2):
        LicenseFactory(subscription=standard, user=DirectoryUserFactory(tenant=tenant))
    before = held(tenant)
    message = graph_error(graph_client(tenant).post(f"{BASE}/users/anna@contoso.example/assignLicense", swap(),
                                                    format="json"), 400, "Request_BadRequest")
    assert message.startswith("1 license is needed but only 0 are available on Microsoft 365 Business Standard")
    assert held(tenant) == before and counts(basic, standard) == [3, 4]
    assert not Event.objects.filter(verb="licenses.changed").exists()


def test_a_sku_the_tenant_does_not_have_is_refused(world):
    tenant, *_ = world
    body = {"addLicenses": [{"skuId": PREMIUM}], "removeLicenses": []}
    before = held(tenant)
    message = graph_error(graph_client(tenant).post(f"{BASE}/users/fred@contoso.example/assignLicense", body,
                                                    format="json"), 400, "Request_BadRequest")
    assert message == f"License {PREMIUM} does not correspond to a valid company License."
    assert held(tenant) == before


def test_a_user_without_usage_location_gets_no_license(world):
    tenant, basic, standard, users = world
    users["fred"].usage_location = ""
    users["fred"].save()
    message = graph_error(graph_client(tenant).post(f"{BASE}/users/fred@contoso.example/assignLicense",
                                                    {"addLicenses": [{"skuId": BASIC}], "removeLicenses": []},
                                                    format="json"), 400, "Request_BadRequest")
    assert message.startswith("License assignment cannot be done for user with invalid usage location. "
                              "fred@contoso.example has no usage location")
    assert "fred@contoso.example" not in held(tenant)


@pytest.mark.parametrize("plan", [INTUNE_A, "00000000-0000-0000-0000-000000000000"])
def test_a_disabled_plan_not_in_the_sku_is_refused(world, plan):
    tenant, basic, standard, users = world
    before = held(tenant)
    graph_error(graph_client(tenant).post(f"{BASE}/users/anna@contoso.example/assignLicense", swap([plan]),
                                          format="json"), 400, "Request_BadRequest")
    assert held(tenant) == before and counts(basic, standard) == [3, 2]


def test_a_subscription_held_by_a_plan_change_refuses_in_graphs_shape(world):
    tenant, basic, standard, users = world
    subscription_hold(tenant=tenant, subscription_id=standard.pk, holder="plan_change/1")
    before = held(tenant)
    message = graph_error(graph_client(tenant).post(f"{BASE}/users/anna@contoso.example/assignLicense", swap(),
                                                    format="json"), 409, "Request_Conflict")
    assert "A plan change involving Microsoft 365 Business Standard is under way" in message
    assert held(tenant) == before and counts(basic, standard) == [3, 2]


@pytest.mark.parametrize(("body", "wording"), [
    ({"addLicenses": [{"skuId": STANDARD}]}, "The missing parameters are: removeLicenses."),
    ({"removeLicenses": [BASIC]}, "The missing parameters are: addLicenses."),
    ({"addLicenses": [{"skuId": "nope"}], "removeLicenses": []}, "needs a skuId, a GUID"),
    ({"addLicenses": [], "removeLicenses": ["nope"]}, "Invalid GUID in removeLicenses"),
    ({"addLicenses": [], "removeLicenses": [], "extra": 1}, "The parameter 'extra'"),
    ({"addLicenses": [], "removeLicenses": [STANDARD]}, "anna@contoso.example has no license of"),
    ({"addLicenses": [{"skuId": BASIC}], "removeLicenses": [BASIC]}, "can't be both added and removed"),
    ([1, 2], "must be a JSON object"),
    ({"addLicenses": [], "removeLicenses": [BASIC, BASIC.upper()]}, f"{BASIC} is in removeLicenses twice."),
    ({"addLicenses": [{"skuId": STANDARD, "disabledPlans": []}, {"skuId": STANDARD, "disabledPlans": [YAMMER]}],
      "removeLicenses": []}, f"License {STANDARD} is in addLicenses twice."),
    ({"addLicenses": [{"skuId": STANDARD, "disabledPlans": [YAMMER, YAMMER.upper()]}], "removeLicenses": []},
     f"{YAMMER} is in disabledPlans twice."),
])
def test_bad_bodies_are_graphs_400_and_write_nothing(world, body, wording):
    tenant, basic, standard, users = world
    before = held(tenant)
    message = graph_error(graph_client(tenant).post(f"{BASE}/users/anna@contoso.example/assignLicense", body,
                                                    format="json"), 400, "Request_BadRequest")
    assert wording in message
    assert held(tenant) == before


def test_another_tenants_user_is_not_found(world):
    tenant, *_ = world
    other = DirectoryUserFactory(tenant=TenantFactory(), upn="zed@other.example", usage_location="SE")
    graph_error(graph_client(tenant).post(f"{BASE}/users/{other.upn}/assignLicense", swap(), format="json"), 404,
                "Request_ResourceNotFound")


def test_the_portals_sentences_follow_the_callers_language(world):
    from django.utils import translation

    tenant, basic, standard, users = world
    users["fred"].usage_location = ""
    users["fred"].save()
    message = graph_error(graph_client(tenant).post(
        f"{BASE}/users/fred@contoso.example/assignLicense", {"addLicenses": [{"skuId": BASIC}], "removeLicenses": []},
        format="json", HTTP_ACCEPT_LANGUAGE="sv"), 400, "Request_BadRequest")
    assert message == ("License assignment cannot be done for user with invalid usage location. fred@contoso.example "
                       "har ingen användningsplats: ange var användaren använder tjänsterna innan du tilldelar en "
                       "licens.")
    assert graph_client(tenant).post(f"{BASE}/users/anna@contoso.example/assignLicense", swap(),
                                     format="json").status_code == 200
    event = Event.objects.get(verb="licenses.changed")
    with translation.override("sv"):
        assert render(event_key(event.verb), event.data) == (
            "Licenserna för anna@contoso.example ändrades: tillagda O365_BUSINESS_PREMIUM; borttagna "
            "O365_BUSINESS_ESSENTIALS. (via Microsoft Graph)")


@pytest.mark.parametrize("body", [
    {"addLicenses": [], "removeLicenses": []},
    {"addLicenses": [{"skuId": STANDARD, "disabledPlans": [FORMS_E1]}], "removeLicenses": []},  # as eva has it
])
def test_a_call_that_changes_nothing_answers_the_user_and_records_nothing(world, body):
    """Nothing changed, nothing audited: a script that re-sends what holds (or polls with an empty call) neither
    floods the audit trail nor wakes a webhook."""
    tenant, basic, standard, users = world
    before = held(tenant)
    response = graph_client(tenant).post(f"{BASE}/users/eva@contoso.example/assignLicense", body, format="json")
    assert response.status_code == 200 and response.json()["userPrincipalName"] == "eva@contoso.example"
    assert held(tenant) == before and counts(basic, standard) == [3, 2]
    assert not Event.objects.filter(verb="licenses.changed").exists()
