"""The Graph endpoints (docs/graph.md): each parses, calls one selector or service, and answers Graph's shape."""

from urllib.parse import urlencode

from rest_framework.response import Response

from graph import odata, selectors, shapes
from graph.assign import license_assign
from graph.base import GraphView
from graph.errors import DENIED, GraphError, unsupported_path_message
from graph.ids import USER, guid
from portal.roles import LICENSE_WRITERS, may

SKU_PROPERTIES = ["id", "accountId", "accountName", "appliesTo", "capabilityStatus", "consumedUnits", "prepaidUnits",
                  "servicePlans", "skuId", "skuPartNumber", "subscriptionIds"]
SUBSCRIPTION_PROPERTIES = ["id", "commerceSubscriptionId", "createdDateTime", "isTrial", "nextLifecycleDateTime",
                           "ownerId", "ownerTenantId", "ownerType", "serviceStatus", "skuId", "skuPartNumber",
                           "status", "totalLicenses"]
USERS_PAGE = 100  # users a page holds without $top, as Graph


def _selected(item: dict, select: list[str]) -> dict:
    return {name: item[name] for name in select} if select else item


def _context(select: list[str], entity_set: str, suffix: str = "") -> str:
    return f"{entity_set}({','.join(select)}){suffix}" if select else f"{entity_set}{suffix}"


def _properties(names) -> dict[str, str]:
    return {name.lower(): name for name in names}


class SubscribedSkusView(GraphView):
    def get(self, request, sku_id=None):
        query = odata.parse(request, properties=_properties(SKU_PROPERTIES), type_name="subscribedSku")
        plan_ids = selectors.plan_ids(tenant=self.tenant)
        if sku_id is not None:
            found = shapes.sku(self.tenant, selectors.sku_get(tenant=self.tenant, identifier=sku_id), plan_ids)
            return Response({"@odata.context": self.context(_context(query.select, "subscribedSkus", "/$entity")),
                             **_selected(found, query.select)})
        return Response({"@odata.context": self.context(_context(query.select, "subscribedSkus")),
                         "value": [_selected(shapes.sku(self.tenant, s, plan_ids), query.select)
                                   for s in selectors.sku_list(tenant=self.tenant)]})


class SubscriptionsView(GraphView):
    def get(self, request, subscription_id=None):
        query = odata.parse(request, properties=_properties(SUBSCRIPTION_PROPERTIES), type_name="companySubscription")
        entity_set = "directory/subscriptions"
        plan_ids = selectors.plan_ids(tenant=self.tenant)
        if subscription_id is not None:
            found = selectors.subscription_get(tenant=self.tenant, identifier=subscription_id)
            return Response({"@odata.context": self.context(_context(query.select, entity_set, "/$entity")),
                             **_selected(shapes.company_subscription(found, plan_ids), query.select)})
        return Response({"@odata.context": self.context(_context(query.select, entity_set)),
                         "value": [_selected(shapes.company_subscription(s, plan_ids), query.select)
                                   for s in selectors.subscription_list(tenant=self.tenant)]})


class UsersView(GraphView):
    def get(self, request):
        query = odata.parse(request, properties=shapes.USER_SELECTABLE, type_name="user",
                            allowed=("$select", "$top", "$count", "$filter", "$skiptoken"))
        found = selectors.users(tenant=self.tenant)
        if query.upn is not None:
            found = found.filter(upn=query.upn)
        if query.sku_id is not None:
            found = found.filter(licenses__subscription__product__sku_id=query.sku_id).distinct()
        answer = {"@odata.context": self.context(_context(query.select, "users"))}
        if query.count:
            answer["@odata.count"] = found.count()
        size = query.top or USERS_PAGE
        page = list(found.filter(pk__gt=query.after)[:size + 1])
        plan_ids = selectors.plan_ids(tenant=self.tenant)
        answer["value"] = [shapes.user(u, plan_ids, query.select) for u in page[:size]]
        if len(page) > size:
            params = {k: v for k, v in query.params.items() if k != "$skiptoken"}
            params["$skiptoken"] = odata.skiptoken(page[size - 1].pk)
            answer["@odata.nextLink"] = f"{self.base_url()}/users?{urlencode(params)}"
        return Response(answer)


class UserView(GraphView):
    def get(self, request, user_id):
        query = odata.parse(request, properties=shapes.USER_SELECTABLE, type_name="user")
        found = selectors.user_get(tenant=self.tenant, identifier=user_id)
        return Response({"@odata.context": self.context(_context(query.select, "users", "/$entity")),
                         **shapes.user(found, selectors.plan_ids(tenant=self.tenant), query.select)})


class LicenseDetailsView(GraphView):
    def get(self, request, user_id):
        odata.parse(request, properties={}, type_name="licenseDetails", allowed=())
        found = selectors.user_get(tenant=self.tenant, identifier=user_id)
        plan_ids = selectors.plan_ids(tenant=self.tenant)
        return Response({"@odata.context": self.context(f"users('{guid(USER, found.pk)}')/licenseDetails"),
                         "value": [shapes.license_details(a, plan_ids) for a in selectors.license_list(user=found)]})


class AssignLicenseView(GraphView):
    def post(self, request, user_id):
        found = selectors.user_get(tenant=self.tenant, identifier=user_id, licenses=False)
        if not may(self.roles, LICENSE_WRITERS):
            raise GraphError(403, DENIED, "Insufficient privileges to complete the operation.")
        license_assign(tenant=self.tenant, user=found, body=request.data, actor=request.user.get_username())
        found = selectors.user_get(tenant=self.tenant, identifier=str(found.upn))
        return Response({"@odata.context": self.context("users/$entity"),
                         **shapes.user(found, selectors.plan_ids(tenant=self.tenant), shapes.USER_PROPERTIES)})


class UnsupportedView(GraphView):
    """Anything else under /graph/: Graph's 400 for a segment it doesn't know, after the token is checked."""

    def _refuse(self, request, *args, **kwargs):
        raise GraphError(400, "BadRequest", unsupported_path_message(request.path))

    get = post = put = patch = delete = head = options = _refuse
