"""GET organization: the tenant as Graph's organization (its name and verified domain), which an export reads;
$select, one by id, another tenant's id not found."""

import pytest
from msgraph.generated.models.organization import Organization
from msgraph.generated.models.organization_collection_response import OrganizationCollectionResponse

from graph.ids import TENANT, guid
from tests.factories import TenantFactory
from tests.graph.conftest import BASE, graph_client, graph_error, sdk

pytestmark = pytest.mark.django_db


def test_the_organization_is_the_tenant_with_its_domain_verified(world):
    tenant = world[0]
    response = graph_client(tenant, "global_reader").get(f"{BASE}/organization")
    assert response.status_code == 200
    assert response.json()["@odata.context"] == "http://testserver/graph/v1.0/$metadata#organization"
    [org] = sdk(OrganizationCollectionResponse, response).value
    assert (org.id, org.display_name, org.tenant_type) == (guid(TENANT, tenant.pk), "Contoso", "AAD")
    [domain] = org.verified_domains
    assert (domain.name, domain.is_default, domain.is_initial, domain.type, domain.capabilities) == (
        "contoso.example", True, True, "Managed", "Email, OfficeCommunicationsOnline")


def test_select_and_one_by_id(world):
    tenant = world[0]
    api = graph_client(tenant)
    response = api.get(f"{BASE}/organization", {"$select": "displayName,verifiedDomains"})
    assert response.json()["value"][0].keys() == {"displayName", "verifiedDomains"}
    response = api.get(f"{BASE}/organization/{guid(TENANT, tenant.pk)}")
    assert response.status_code == 200
    assert sdk(Organization, response).display_name == "Contoso"


def test_another_tenants_organization_is_not_found_and_a_bad_id_is_a_400(world):
    other = TenantFactory(domain="fabrikam.example")
    api = graph_client(world[0])
    graph_error(api.get(f"{BASE}/organization/{guid(TENANT, other.pk)}"), 404, "Request_ResourceNotFound")
    graph_error(api.get(f"{BASE}/organization/nope"), 400, "Request_BadRequest")
    graph_error(api.get(f"{BASE}/organization", {"$select": "nope"}), 400, "Request_BadRequest")
