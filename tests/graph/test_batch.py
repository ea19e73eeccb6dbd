"""POST $batch: up to 20 requests, each authorised, run and audited as if sent alone; dependsOn; a bad batch is
Graph's 400 and nothing in it runs; the SDK's own batch content is understood."""

import json

import pytest
from kiota_abstractions.authentication import AnonymousAuthenticationProvider
from kiota_serialization_json.json_serialization_writer import JsonSerializationWriter
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.generated.models.assigned_license import AssignedLicense
from msgraph.generated.users.item.assign_license.assign_license_post_request_body import AssignLicensePostRequestBody
from msgraph_core.requests.batch_request_content import BatchRequestContent
from msgraph_core.requests.batch_request_item import BatchRequestItem

from licensing.models import LicenseAssignment
from portal.models import Event
from tests.factories import DirectoryUserFactory, LicenseFactory, SubscriptionFactory, TenantFactory, product
from tests.graph.conftest import BASE, BASIC, STANDARD, graph_client, graph_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def twenty(at_date):
    at_date("2026-06-15")
    tenant = TenantFactory(domain="big.example")
    basic = SubscriptionFactory(tenant=tenant, product=product("O365_BUSINESS_ESSENTIALS"), licenses=25)
    standard = SubscriptionFactory(tenant=tenant, product=product("O365_BUSINESS_PREMIUM"), licenses=20)
    for n in range(1, 22):
        LicenseFactory(subscription=basic, user=DirectoryUserFactory(tenant=tenant, upn=f"u{n}@big.example",
                                                                     usage_location="US"))
    return tenant, basic, standard


def move(n, **extra):
    return {"id": str(n), "method": "POST", "url": f"/users/u{n}@big.example/assignLicense",
            "headers": {"Content-Type": "application/json"},
            "body": {"addLicenses": [{"skuId": STANDARD, "disabledPlans": []}], "removeLicenses": [BASIC]}, **extra}


def on_standard(tenant) -> set[str]:
    return set(LicenseAssignment.objects.filter(user__tenant=tenant, subscription__product__sku="O365_BUSINESS_PREMIUM")
               .values_list("user__upn", flat=True))


def test_twenty_moves_in_one_batch_each_audited_as_if_alone(twenty):
    tenant, basic, standard = twenty
    response = graph_client(tenant).post(f"{BASE}/$batch", {"requests": [move(n) for n in range(1, 21)]},
                                         format="json")
    assert response.status_code == 200
    answers = response.json()["responses"]
    assert [(a["id"], a["status"]) for a in answers] == [(str(n), 200) for n in range(1, 21)]
    assert answers[0]["body"]["userPrincipalName"] == "u1@big.example"
    assert answers[0]["headers"]["Content-Type"].startswith("application/json")
    assert on_standard(tenant) == {f"u{n}@big.example" for n in range(1, 21)}
    assert sorted(Event.objects.filter(verb="licenses.changed").values_list("data__user", flat=True)) == sorted(
        f"u{n}@big.example" for n in range(1, 21))


def test_a_refused_request_refuses_only_itself_and_its_dependents(twenty):
    tenant, basic, standard = twenty
    requests = [move(n) for n in range(1, 21)]
    requests[5]["body"]["addLicenses"][0]["skuId"] = "cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46"  # not owned
    requests[6]["dependsOn"] = ["6"]
    answers = graph_client(tenant).post(f"{BASE}/$batch", {"requests": requests}, format="json").json()["responses"]
    statuses = {a["id"]: a["status"] for a in answers}
    assert (statuses["6"], statuses["7"], statuses["8"]) == (400, 424, 200)
    assert answers[5]["body"]["error"]["code"] == "Request_BadRequest"
    assert answers[6]["body"]["error"]["code"] == "FailedDependency"
    assert on_standard(tenant) == {f"u{n}@big.example" for n in range(1, 21)} - {"u6@big.example", "u7@big.example"}
    assert Event.objects.filter(verb="licenses.changed").count() == 18


def test_each_request_is_authorised_as_if_alone(twenty):
    tenant, *_ = twenty
    reader = graph_client(tenant, "global_reader")
    answers = reader.post(f"{BASE}/$batch", {"requests": [
        {"id": "a", "method": "GET", "url": "/subscribedSkus"}, move(1)]}, format="json").json()["responses"]
    assert [(a["id"], a["status"]) for a in answers] == [("a", 200), ("1", 403)]
    assert answers[1]["body"]["error"]["code"] == "Authorization_RequestDenied"
    assert on_standard(tenant) == set()


@pytest.mark.parametrize("url", ["/users/u1@big.example", "users/u1@big.example", "/v1.0/users/u1@big.example",
                                 "/graph/v1.0/users/u1@big.example", "https://elsewhere.example/graph/v1.0/users/u1@big.example"])
def test_inner_urls_relative_or_with_the_base(twenty, url):
    tenant, *_ = twenty
    answers = graph_client(tenant).post(f"{BASE}/$batch", {"requests": [{"id": "1", "method": "GET", "url": url}]},
                                        format="json").json()["responses"]
    assert (answers[0]["status"], answers[0]["body"]["userPrincipalName"]) == (200, "u1@big.example")


@pytest.mark.parametrize(("requests", "wording"), [
    ([move(n) for n in range(1, 22)], "exceeds the limit of 20"),
    ([move(1), {"id": "2", "method": "POST", "url": "/$batch", "body": {"requests": []}}], "Nested batch"),
    ([move(1), {"id": "2", "method": "POST", "url": "/%24batch", "body": {"requests": [move(3)]}}], "Nested batch"),
    ([move(1), move(2, dependsOn=[{"id": "1"}])], "depends on a request that isn't before it"),
    ([move(1), move(2, dependsOn=[["1"]])], "depends on a request that isn't before it"),
    ([move(1), move(1)], "used more than once"),
    ([move("a"), move("A")], "used more than once"),
    ([move(1, dependsOn=["2"]), move(2)], "depends on a request that isn't before it"),
    ([{"id": "1", "method": "TRACE", "url": "/users"}], "invalid method"),
    ([{"id": "1", "method": "GET"}], "needs a url"),
    ([], "1 to 20 requests"),
])
def test_a_bad_batch_is_a_400_and_nothing_in_it_runs(twenty, requests, wording):
    tenant, *_ = twenty
    response = graph_client(tenant).post(f"{BASE}/$batch", {"requests": requests}, format="json")
    assert wording in graph_error(response, 400, "BadRequest")
    assert on_standard(tenant) == set() and not Event.objects.filter(verb="licenses.changed").exists()


def test_a_batch_needs_a_token(twenty):
    from rest_framework.test import APIClient

    graph_error(APIClient().post(f"{BASE}/$batch", {"requests": [move(1)]}, format="json"), 401,
                "InvalidAuthenticationToken")


def test_the_sdks_own_batch_content_runs(twenty):
    """What msgraph-sdk's batch helpers send (the whole base in each url, ``depends_on``) runs as Graph's."""
    tenant, *_ = twenty
    adapter = GraphRequestAdapter(AnonymousAuthenticationProvider())
    adapter.base_url = "http://testserver/graph/v1.0"
    client = GraphServiceClient(request_adapter=adapter)
    items = []
    for n in (1, 2):
        body = AssignLicensePostRequestBody(add_licenses=[AssignedLicense(sku_id=STANDARD, disabled_plans=[])],
                                            remove_licenses=[BASIC])
        info = client.users.by_user_id(f"u{n}@big.example").assign_license.to_post_request_information(body)
        items.append(BatchRequestItem(request_information=info, id=str(n), depends_on=items[-1:]))
    writer = JsonSerializationWriter()
    writer.write_object_value(None, BatchRequestContent({item.id: item for item in items}))
    sent = json.loads(writer.get_serialized_content())
    assert sent["requests"][1]["depends_on"] == ["1"]
    assert sent["requests"][0]["url"] == "/users/u1%40big.example/assignLicense"
    answers = graph_client(tenant).post(f"{BASE}/$batch", sent, format="json").json()["responses"]
    assert [(a["id"], a["status"]) for a in answers] == [("1", 200), ("2", 200)]
    assert on_standard(tenant) == {"u1@big.example", "u2@big.example"}
