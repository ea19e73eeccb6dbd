"""GET subscribedSkus and directory/subscriptions: the tenant's products with Microsoft's real ids, several
subscriptions of one product added up, the lifecycle as capabilityStatus."""

import pytest
from msgraph.generated.models.company_subscription import CompanySubscription
from msgraph.generated.models.company_subscription_collection_response import CompanySubscriptionCollectionResponse
from msgraph.generated.models.subscribed_sku import SubscribedSku
from msgraph.generated.models.subscribed_sku_collection_response import SubscribedSkuCollectionResponse

from tests.factories import SubscriptionFactory, TenantFactory, product
from tests.graph.conftest import BASE, BASIC, STANDARD, YAMMER, graph_client, graph_error, sdk

pytestmark = pytest.mark.django_db


def test_subscribed_skus_list_each_product_once_with_its_real_ids_and_every_service_plan(world):
    tenant, basic, standard, users = world
    SubscriptionFactory(tenant=tenant, product=product("O365_BUSINESS_PREMIUM"), licenses=3, status="expired")
    response = graph_client(tenant, "global_reader").get(f"{BASE}/subscribedSkus")
    assert response.status_code == 200
    assert response.json()["@odata.context"] == "http://testserver/graph/v1.0/$metadata#subscribedSkus"
    skus = {str(s.sku_id): s for s in sdk(SubscribedSkuCollectionResponse, response).value}
    assert set(skus) == {BASIC, STANDARD}
    b = skus[BASIC]
    assert (b.sku_part_number, b.applies_to, b.capability_status, b.consumed_units) == (
        "O365_BUSINESS_ESSENTIALS", "User", "Enabled", 3)
    assert (b.prepaid_units.enabled, b.prepaid_units.warning, b.prepaid_units.suspended,
            b.prepaid_units.locked_out) == (5, 0, 0, 0)
    assert len(b.service_plans) == 14
    yammer = next(p for p in b.service_plans if p.service_plan_name == "YAMMER_ENTERPRISE")
    assert (str(yammer.service_plan_id), yammer.provisioning_status, yammer.applies_to) == (YAMMER, "Success", "User")
    s = skus[STANDARD]
    # Two subscriptions of Business Standard: one SKU; the expired one's licenses are in warning.
    assert (s.consumed_units, s.prepaid_units.enabled, s.prepaid_units.warning, s.capability_status) == (
        2, 4, 3, "Enabled")
    assert len(s.subscription_ids) == 2 and len(s.service_plans) == 37
    assert s.id == f"{s.account_id}_{STANDARD}" and s.account_name == "Contoso"


def test_one_sku_by_its_id_and_another_tenants_is_not_found(world):
    tenant, *_ = world
    api = graph_client(tenant)
    listed = api.get(f"{BASE}/subscribedSkus").json()["value"]
    sku_id = next(s["id"] for s in listed if s["skuId"] == BASIC)
    one = sdk(SubscribedSku, api.get(f"{BASE}/subscribedSkus/{sku_id}"))
    assert (str(one.sku_id), one.consumed_units) == (BASIC, 3)
    other = graph_client(TenantFactory())
    graph_error(other.get(f"{BASE}/subscribedSkus/{sku_id}"), 404, "Request_ResourceNotFound")
    graph_error(api.get(f"{BASE}/subscribedSkus/not-a-sku"), 400, "Request_BadRequest")


@pytest.mark.parametrize(("status", "capability"), [
    ("expired", "Warning"), ("disabled", "Suspended"), ("cancelled", "LockedOut"), ("deleted", "Deleted")])
def test_capability_status_follows_the_lifecycle(at_date, status, capability):
    at_date("2026-06-15")
    sub = SubscriptionFactory(product=product("SPB"), licenses=7, status=status)
    sku = sdk(SubscribedSkuCollectionResponse, graph_client(sub.tenant).get(f"{BASE}/subscribedSkus")).value[0]
    assert sku.capability_status == capability


def test_select_keeps_only_what_was_asked(world):
    tenant, *_ = world
    response = graph_client(tenant).get(f"{BASE}/subscribedSkus", {"$select": "skuId,skuPartNumber"})
    assert response.json()["@odata.context"].endswith("#subscribedSkus(skuId,skuPartNumber)")
    assert {tuple(sorted(s)) for s in response.json()["value"]} == {("skuId", "skuPartNumber")}
    message = graph_error(graph_client(tenant).get(f"{BASE}/subscribedSkus", {"$select": "price"}), 400,
                          "Request_BadRequest")
    assert message == "Could not find a property named 'price' on type 'microsoft.graph.subscribedSku'."


def test_directory_subscriptions_are_graphs_company_subscriptions(world):
    tenant, basic, standard, users = world
    trial = SubscriptionFactory(tenant=tenant, product=product("SPB"), licenses=25, source="trial",
                                start_date=basic.start_date.replace(month=6, day=1))
    api = graph_client(tenant)
    response = api.get(f"{BASE}/directory/subscriptions")
    subs = sdk(CompanySubscriptionCollectionResponse, response).value
    assert [(s.sku_part_number, s.total_licenses, s.status, s.is_trial) for s in subs] == [
        ("O365_BUSINESS_ESSENTIALS", 5, "Enabled", False), ("O365_BUSINESS_PREMIUM", 4, "Enabled", False),
        ("SPB", 25, "Enabled", True)]
    assert subs[0].sku_id == BASIC and subs[0].created_date_time.isoformat() == "2026-01-01T00:00:00+00:00"
    assert subs[0].next_lifecycle_date_time.isoformat() == "2027-01-01T00:00:00+00:00"
    assert len(subs[2].service_status) == 55
    one = sdk(CompanySubscription, api.get(f"{BASE}/directory/subscriptions/{subs[2].id}"))
    assert (one.id, one.commerce_subscription_id != one.id) == (subs[2].id, True)
    assert trial.pk
    graph_error(graph_client(TenantFactory()).get(f"{BASE}/directory/subscriptions/{subs[2].id}"), 404,
                "Request_ResourceNotFound")
    graph_error(api.get(f"{BASE}/directory/subscriptions/12"), 400, "Request_BadRequest")
