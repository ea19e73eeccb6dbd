"""``GET organization`` and ``GET organization/{id}``: Graph's ``organization``, the one a tenant is (an export
reads its name and verified domains, as on a real tenant). The portal models a name and one domain: that
domain is the default and initial one; the properties the portal doesn't model are null or empty."""

from rest_framework.response import Response

from graph import ids, odata
from graph.base import GraphView
from graph.errors import BAD_REQUEST, GraphError
from graph.selectors import not_found
from portal.models import Tenant

PROPERTIES = ["id", "businessPhones", "city", "country", "countryLetterCode", "createdDateTime", "displayName",
              "postalCode", "preferredLanguage", "state", "street", "tenantType", "verifiedDomains"]
_SELECTABLE = {name.lower(): name for name in PROPERTIES}


def organization(tenant: Tenant) -> dict:
    """The tenant as Graph's organization: its id, name and its domain (default, initial, managed)."""
    return {
        "id": ids.guid(ids.TENANT, tenant.pk), "businessPhones": [], "city": None, "country": None,
        "countryLetterCode": None, "createdDateTime": tenant.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "displayName": tenant.name, "postalCode": None, "preferredLanguage": None, "state": None, "street": None,
        "tenantType": "AAD",
        "verifiedDomains": [{"capabilities": "Email, OfficeCommunicationsOnline", "isDefault": True,
                             "isInitial": True, "name": tenant.domain, "type": "Managed"}],
    }


def _selected(values: dict, select: list[str]) -> dict:
    return {name: values[name] for name in select} if select else values


class OrganizationView(GraphView):
    def get(self, request, organization_id=None):
        query = odata.parse(request, properties=_SELECTABLE, type_name="organization")
        values = _selected(organization(self.tenant), query.select)
        fragment = f"organization({','.join(query.select)})" if query.select else "organization"
        if organization_id is None:
            return Response({"@odata.context": self.context(fragment), "value": [values]})
        if not ids.is_guid(organization_id):
            raise GraphError(400, BAD_REQUEST, f"Invalid object identifier '{organization_id}'.")
        if organization_id.lower() != ids.guid(ids.TENANT, self.tenant.pk):
            raise not_found(organization_id)
        return Response({"@odata.context": self.context(f"{fragment}/$entity"), **values})
