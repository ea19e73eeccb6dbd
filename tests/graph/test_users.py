"""GET users, users/{id | userPrincipalName}, users/{id}/licenseDetails: Graph's user with assignedLicenses and
licenseAssignmentStates, $select, $top, $count, the two $filters, @odata.nextLink paging."""

import pytest
from msgraph.generated.models.license_details_collection_response import LicenseDetailsCollectionResponse
from msgraph.generated.models.user import User
from msgraph.generated.models.user_collection_response import UserCollectionResponse

from tests.factories import DirectoryUserFactory, TenantFactory
from tests.graph.conftest import BASE, BASIC, FORMS_E1, STANDARD, YAMMER, graph_client, graph_error, sdk

pytestmark = pytest.mark.django_db

SELECT = "id,userPrincipalName,displayName,usageLocation,accountEnabled,assignedLicenses,licenseAssignmentStates"
EVENTUAL = {"HTTP_CONSISTENCYLEVEL": "eventual"}


def test_users_answer_graphs_default_properties_unless_selected(world):
    tenant, *_ = world
    api = graph_client(tenant, "global_reader")
    plain = api.get(f"{BASE}/users").json()["value"][0]
    assert sorted(plain) == sorted(["businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
                                    "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id"])
    response = api.get(f"{BASE}/users", {"$select": SELECT})
    assert response.json()["@odata.context"] == f"http://testserver/graph/v1.0/$metadata#users({SELECT})"
    users = {u.user_principal_name: u for u in sdk(UserCollectionResponse, response).value}
    assert list(users) == [f"{n}@contoso.example" for n in ("anna", "bo", "cia", "dan", "eva", "fred")]
    anna = users["anna@contoso.example"]
    assert (anna.display_name, anna.usage_location, anna.account_enabled) == ("Anna", "SE", True)
    assert [(str(a.sku_id), [str(p) for p in a.disabled_plans]) for a in anna.assigned_licenses] == [(BASIC, [YAMMER])]
    state = anna.license_assignment_states[0]
    assert (str(state.sku_id), state.state, state.error, state.assigned_by_group) == (BASIC, "Active", "None", None)
    assert [(str(a.sku_id), [str(p) for p in a.disabled_plans]) for a in users["eva@contoso.example"].assigned_licenses] \
        == [(STANDARD, [FORMS_E1])]
    assert users["fred@contoso.example"].assigned_licenses == []


def test_a_user_by_id_or_by_user_principal_name_and_never_another_tenants(world):
    tenant, *_ = world
    api = graph_client(tenant)
    listed = api.get(f"{BASE}/users", {"$select": "id,userPrincipalName"}).json()["value"]
    bo = next(u for u in listed if u["userPrincipalName"] == "bo@contoso.example")
    by_id = sdk(User, api.get(f"{BASE}/users/{bo['id']}", {"$select": SELECT}))
    by_upn = sdk(User, api.get(f"{BASE}/users/Bo@Contoso.example", {"$select": SELECT}))
    assert by_id.id == by_upn.id == bo["id"]
    assert api.get(f"{BASE}/users/{bo['id']}").json()["@odata.context"].endswith("#users/$entity")
    other = DirectoryUserFactory(tenant=TenantFactory(), upn="zed@other.example")
    graph_error(api.get(f"{BASE}/users/zed@other.example"), 404, "Request_ResourceNotFound")
    other_id = graph_client(other.tenant).get(f"{BASE}/users").json()["value"][0]["id"]
    graph_error(api.get(f"{BASE}/users/{other_id}"), 404, "Request_ResourceNotFound")
    graph_error(api.get(f"{BASE}/users/nobody"), 404, "Request_ResourceNotFound")


def test_top_pages_with_next_links_that_keep_the_query(world):
    tenant, *_ = world
    api = graph_client(tenant)
    seen, url, pages = [], f"{BASE}/users?$select=userPrincipalName&$top=4", 0
    while url:
        page = sdk(UserCollectionResponse, api.get(url))
        seen += [u.user_principal_name for u in page.value]
        url, pages = page.odata_next_link, pages + 1
        if url:
            assert url.startswith("http://testserver/graph/v1.0/users?") and "%24select=userPrincipalName" in url
    assert (pages, len(seen), len(set(seen))) == (2, 6, 6)
    for top in ("0", "1000", "x", "٣"):
        message = graph_error(api.get(f"{BASE}/users", {"$top": top}), 400, "Request_BadRequest")
        assert message.startswith(f"Invalid page size specified: '{top}'")
    assert len(api.get(f"{BASE}/users", {"$top": "999"}).json()["value"]) == 6
    graph_error(api.get(f"{BASE}/users", {"$skiptoken": "garbage"}), 400, "Request_BadRequest")


def test_filter_by_user_principal_name(world):
    tenant, *_ = world
    response = graph_client(tenant).get(f"{BASE}/users", {"$filter": "userPrincipalName eq 'CIA@contoso.example'",
                                                         "$select": "userPrincipalName"})
    assert [u.user_principal_name for u in sdk(UserCollectionResponse, response).value] == ["cia@contoso.example"]


def test_filter_by_license_is_an_advanced_query_with_count(world):
    tenant, *_ = world
    api = graph_client(tenant)
    wanted = {"$filter": f"assignedLicenses/any(x:x/skuId eq {BASIC})", "$count": "true", "$select": "userPrincipalName"}
    page = sdk(UserCollectionResponse, api.get(f"{BASE}/users", wanted, **EVENTUAL))
    assert (page.odata_count, [u.user_principal_name for u in page.value]) == (
        3, ["anna@contoso.example", "bo@contoso.example", "cia@contoso.example"])
    message = graph_error(api.get(f"{BASE}/users", {**wanted, "$count": "false"}, **EVENTUAL), 400,
                          "Request_UnsupportedQuery")
    assert message == ("Unsupported or invalid query filter clause specified for property 'assignedLicenses' of "
                       "resource 'User'.")
    graph_error(api.get(f"{BASE}/users", wanted), 400, "Request_BadRequest")  # $count without ConsistencyLevel
    counted = sdk(UserCollectionResponse, api.get(f"{BASE}/users", {"$count": "true", "$top": "2"}, **EVENTUAL))
    assert (counted.odata_count, len(counted.value), bool(counted.odata_next_link)) == (6, 2, True)


@pytest.mark.parametrize(("query", "code"), [
    ("displayName eq 'Anna'", "Request_UnsupportedQuery"),
    ("startswith(userPrincipalName,'a')", "Request_UnsupportedQuery"),
    ("assignedLicenses/any(x:x/skuId eq not-a-guid)", "Request_UnsupportedQuery"),
    ("assignedLicenses/any(x:y/skuId eq 3b555118-da6a-4418-894f-7df1e2096870)", "BadRequest"),
])
def test_unsupported_filters_are_graphs_400(world, query, code):
    tenant, *_ = world
    graph_error(graph_client(tenant).get(f"{BASE}/users", {"$filter": query, "$count": "true"}, **EVENTUAL), 400, code)


@pytest.mark.parametrize("option", ["$orderby", "$expand", "$search", "$skip"])
def test_query_options_the_dialect_lacks_are_refused_not_ignored(world, option):
    tenant, *_ = world
    graph_error(graph_client(tenant).get(f"{BASE}/users", {option: "displayName"}), 400, "Request_BadRequest")


def test_license_details_list_each_license_with_its_plans_off_where_the_user_has_them_off(world):
    tenant, *_ = world
    api = graph_client(tenant)
    response = api.get(f"{BASE}/users/anna@contoso.example/licenseDetails")
    details = sdk(LicenseDetailsCollectionResponse, response).value
    assert [(str(d.sku_id), d.sku_part_number, len(d.service_plans)) for d in details] == [
        (BASIC, "O365_BUSINESS_ESSENTIALS", 14)]
    off = [p.service_plan_name for p in details[0].service_plans if p.provisioning_status == "Disabled"]
    assert off == ["YAMMER_ENTERPRISE"]
    assert "licenseDetails" in response.json()["@odata.context"]
    assert sdk(LicenseDetailsCollectionResponse, api.get(f"{BASE}/users/fred@contoso.example/licenseDetails")).value \
        == []


@pytest.mark.parametrize("query", ["$top=abc&$top=2", "$top=2&$TOP=3", "$select=id&$select=mail"])
def test_a_query_option_given_twice_is_refused_not_one_of_them_taken(world, query):
    tenant, *_ = world
    message = graph_error(graph_client(tenant).get(f"{BASE}/users?{query}"), 400, "Request_BadRequest")
    assert "was specified more than once, but it must be specified at most once." in message
