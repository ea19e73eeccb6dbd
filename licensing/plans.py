"""Which service plans a license of a product may have turned off, and each one's servicePlanId: Microsoft's
plans of the product (``Product.microsoft_plans``), and the tenant's plans of it that the catalog doesn't list
(``OtherServicePlan``: a Graph export's, a scenario's ``other_plans``). Graph names every turned-off plan by
its id, so a script that reads a user's ``disabledPlans`` and writes them back keeps every one of them off."""

import uuid
from collections.abc import Iterable
from uuid import UUID

from billing.models import Product
from licensing.models import OtherServicePlan
from portal.models import Tenant

# The namespace of the ids the simulation makes for a plan known only by its name (a scenario's other_plans
# without an id): the same name is the same id in every database, so an export and its import agree.
_NAMESPACE = UUID("7e0a0009-0000-4000-8000-000000000000")


def other_plan_id(name: str) -> UUID:
    """The servicePlanId of a plan known only by ``name``: the name itself when it is a GUID (an export's plan
    the file names nowhere is kept by its id), else one made from the name, stable everywhere."""
    try:
        return UUID(name)
    except ValueError:
        return uuid.uuid5(_NAMESPACE, name)


def other_plans_save(*, tenant: Tenant, product: Product, plans: Iterable[tuple[str, UUID | None]]) -> None:
    """Record the tenant's plans of ``product`` the catalog doesn't list, (name, servicePlanId or None); a
    name recorded already keeps its id. Called by the scenario loader (an import is one)."""
    have = set(OtherServicePlan.objects.filter(tenant=tenant, product=product).values_list("name", flat=True))
    new = {name: plan_id or other_plan_id(name) for name, plan_id in plans if name not in have}
    OtherServicePlan.objects.bulk_create(
        OtherServicePlan(tenant=tenant, product=product, name=name, service_plan_id=plan_id)
        for name, plan_id in new.items())


def plans_of(*, tenant: Tenant, products: Iterable[Product]) -> dict[int, dict[str, UUID]]:
    """Product id → servicePlanName → servicePlanId of every plan a license of it may have turned off in this
    tenant: Microsoft's, then the tenant's others. Two queries, whatever the number of products."""
    products = list(products)
    plans: dict[int, dict[str, UUID]] = {p.pk: {} for p in products}
    through = Product.microsoft_plans.through.objects.filter(product_id__in=plans)
    for product_id, name, plan_id in through.values_list("product_id", "microsoftserviceplan__name",
                                                          "microsoftserviceplan__service_plan_id"):
        plans[product_id][name] = plan_id
    for product_id, others in other_plans(tenant=tenant, product_ids=list(plans)).items():
        for name, plan_id in others.items():
            plans[product_id].setdefault(name, plan_id)
    return plans


def other_plans(*, tenant: Tenant, product_ids: list[int] | None = None) -> dict[int, dict[str, UUID]]:
    """Product id → servicePlanName → servicePlanId of the tenant's plans the catalog doesn't list (of
    ``product_ids``, or of every product), by name. One query."""
    rows = OtherServicePlan.objects.filter(tenant=tenant)
    if product_ids is not None:
        rows = rows.filter(product_id__in=product_ids)
    found: dict[int, dict[str, UUID]] = {}
    for product_id, name, plan_id in rows.order_by("name").values_list("product_id", "name", "service_plan_id"):
        found.setdefault(product_id, {})[name] = plan_id
    return found
