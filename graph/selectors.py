"""Reads for the Graph endpoints, always through the caller's tenant: its SKUs (its subscriptions grouped by
product), its subscriptions, its users with their licenses. A GUID of another tenant's object is the same
404 as a missing one."""

from dataclasses import dataclass, field
from uuid import UUID

from django.db.models import Prefetch

from billing.models import MicrosoftServicePlan, Product, Subscription
from graph import ids
from graph.errors import BAD_REQUEST, NOT_FOUND, GraphError
from licensing.models import DirectoryUser, LicenseAssignment
from licensing.plans import other_plan_id, other_plans
from portal.models import Tenant


def not_found(identifier: str) -> GraphError:
    return GraphError(404, NOT_FOUND, f"Resource '{identifier}' does not exist or one of its queried "
                                      "reference-property objects are not present.")


_PLAN_IDS: dict[str, UUID] = {}


def microsoft_plan_ids() -> dict[str, UUID]:
    """servicePlanName → servicePlanId of every Microsoft service plan. Read once per process: both are
    Microsoft's, fixed by the reference the catalog migration loads (a name never changes its id)."""
    if not _PLAN_IDS:
        _PLAN_IDS.update(MicrosoftServicePlan.objects.values_list("name", "service_plan_id"))
    return _PLAN_IDS


@dataclass
class PlanIds:
    """The servicePlanId of each plan a license of the tenant may have turned off: the tenant's plans the
    catalog doesn't list (``licensing.plans``, by product), else Microsoft's. Every plan off has one, so Graph
    shows each of them and a script writing back what it read turns none of them on."""

    microsoft: dict[str, UUID]
    others: dict[int, dict[str, UUID]]  # product id → name → servicePlanId

    def id_of(self, product_id: int, name: str) -> UUID:
        found = self.others.get(product_id, {}).get(name) or self.microsoft.get(name)
        return found or other_plan_id(name)  # a row licensing's migration 0005 missed: its id made from the name

    def others_of(self, product_id: int) -> dict[str, UUID]:
        return self.others.get(product_id, {})


def plan_ids(*, tenant: Tenant) -> PlanIds:
    """The tenant's plan ids (one query; Microsoft's are read once per process)."""
    return PlanIds(microsoft_plan_ids(), other_plans(tenant=tenant))


@dataclass
class Sku:
    """One product the tenant has, with every subscription of it (Graph adds them up into one SKU)."""

    product: Product
    subscriptions: list[Subscription] = field(default_factory=list)


def _subscriptions(tenant: Tenant):
    plans = Prefetch("product__microsoft_plans", queryset=MicrosoftServicePlan.objects.order_by("name"))
    return Subscription.objects.filter(tenant=tenant).select_related("product").order_by("pk").prefetch_related(plans)


def sku_list(*, tenant: Tenant) -> list[Sku]:
    skus: dict[int, Sku] = {}
    for sub in _subscriptions(tenant):
        skus.setdefault(sub.product_id, Sku(sub.product)).subscriptions.append(sub)
    return sorted(skus.values(), key=lambda s: s.product.sku)


def sku_get(*, tenant: Tenant, identifier: str) -> Sku:
    """A SKU by Graph's id ``<tenant id>_<skuId>``."""
    tenant_part, _, sku_part = identifier.partition("_")
    if not ids.is_guid(tenant_part) or not ids.is_guid(sku_part):
        raise GraphError(400, BAD_REQUEST, f"Invalid object identifier '{identifier}'.")
    if tenant_part.lower() != ids.guid(ids.TENANT, tenant.pk):
        raise not_found(identifier)
    for sku in sku_list(tenant=tenant):
        if sku.product.sku_id == UUID(sku_part):
            return sku
    raise not_found(identifier)


def subscription_list(*, tenant: Tenant) -> list[Subscription]:
    return list(_subscriptions(tenant))


def subscription_get(*, tenant: Tenant, identifier: str) -> Subscription:
    if not ids.is_guid(identifier):
        raise GraphError(400, BAD_REQUEST, f"Invalid object identifier '{identifier}'.")
    found = _subscriptions(tenant).filter(pk=ids.pk_of(ids.SUBSCRIPTION, identifier) or 0).first()
    if found is None:
        raise not_found(identifier)
    return found


def users(*, tenant: Tenant):
    """The tenant's users in Graph's order (by id), each with its licenses and their products."""
    licenses = LicenseAssignment.objects.select_related("subscription__product").order_by("subscription_id")
    return (DirectoryUser.objects.filter(tenant=tenant).order_by("pk")
            .prefetch_related(Prefetch("licenses", queryset=licenses)))


def license_list(*, user: DirectoryUser):
    """The user's licenses with their products' service plans (licenseDetails)."""
    return list(LicenseAssignment.objects.filter(user=user).order_by("subscription_id")
                .select_related("subscription__product").prefetch_related("subscription__product__microsoft_plans"))


def user_get(*, tenant: Tenant, identifier: str, licenses: bool = True) -> DirectoryUser:
    """A user by Graph's id or by userPrincipalName (``users/{id | userPrincipalName}``), with their licenses
    unless ``licenses`` is False."""
    if identifier.startswith("$"):  # users/$count, users/$ref: not supported here
        raise GraphError(400, "BadRequest", f"Resource not found for the segment '{identifier}'.")
    found = None
    rows = users(tenant=tenant) if licenses else DirectoryUser.objects.filter(tenant=tenant)
    if ids.is_guid(identifier):
        found = rows.filter(pk=ids.pk_of(ids.USER, identifier) or 0).first()
    elif "@" in identifier:
        found = rows.filter(upn=identifier.strip().lower()).first()
    if found is None:
        raise not_found(identifier)
    return found
