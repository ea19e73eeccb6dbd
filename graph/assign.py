"""``POST users/{id}/assignLicense``: Graph's body read and checked, its skuIds and servicePlanIds turned into the
portal's products and plan names, then licensing's ``user_licenses_change`` does it all in one transaction
(docs/graph.md "assignLicense"). Nothing is written unless everything holds."""

from billing.models import Product
from graph.errors import BAD_REQUEST, GraphError
from graph.ids import parse_uuid
from graph.selectors import microsoft_plan_ids
from licensing.models import DirectoryUser
from licensing.plans import plans_of
from licensing.user_licenses import LicensesChange, user_licenses_change
from portal.models import Tenant

VIA = "graph"


def _invalid(message: str) -> GraphError:
    return GraphError(400, BAD_REQUEST, message)


def _guids(values, what: str) -> list:
    if not isinstance(values, list):
        raise _invalid(f"{what} must be a collection of GUIDs.")
    found = [parse_uuid(v) for v in values]
    if None in found:
        raise _invalid(f"Invalid GUID in {what}: {next(v for v, g in zip(values, found, strict=True) if g is None)!r}.")
    if len(set(found)) < len(found):  # each once, as Graph's collections hold them (never stored twice)
        twice = next(g for i, g in enumerate(found) if g in found[:i])
        raise _invalid(f"{twice} is in {what} twice.")
    return found


def _read(body) -> tuple[list[tuple], list]:
    """(skuId, disabledPlans) of each license to add, and the skuIds to remove, from Graph's body."""
    if not isinstance(body, dict):
        raise _invalid("The request body must be a JSON object.")
    missing = [name for name in ("addLicenses", "removeLicenses") if body.get(name) is None]
    if missing:
        raise _invalid("One or more parameters of the function import 'assignLicense' are missing from the request "
                       f"payload. The missing parameters are: {', '.join(missing)}.")
    unknown = sorted(set(body) - {"addLicenses", "removeLicenses"})
    if unknown:
        raise _invalid(f"The parameter '{unknown[0]}' in the request payload is not a valid parameter for the "
                       "operation 'assignLicense'.")
    if not isinstance(body["addLicenses"], list):
        raise _invalid("addLicenses must be a collection of assignedLicense.")
    add = []
    for item in body["addLicenses"]:
        if not isinstance(item, dict) or parse_uuid(item.get("skuId")) is None:
            raise _invalid("Each of addLicenses needs a skuId, a GUID.")
        add.append((parse_uuid(item["skuId"]), _guids(item.get("disabledPlans") or [], "disabledPlans")))
    remove = _guids(body["removeLicenses"], "removeLicenses")
    _once([sku_id for sku_id, _disabled in add], "addLicenses")  # removeLicenses: each once already (_guids)
    return add, remove


def _once(sku_ids: list, what: str) -> None:
    """A license named twice in one list is refused, never one of them taken."""
    seen = set()
    for sku_id in sku_ids:
        if sku_id in seen:
            raise _invalid(f"License {sku_id} is in {what} twice.")
        seen.add(sku_id)


def _product(tenant: Tenant, sku_id, products: dict) -> Product:
    product = products.get(sku_id)
    if product is None:
        raise _invalid(f"License {sku_id} does not correspond to a valid company License.")
    return product


def license_assign(*, tenant: Tenant, user: DirectoryUser, body, actor: str) -> DirectoryUser:
    """Graph's assignLicense for ``user``: each skuId must be a product the tenant has a subscription of, each
    disabled plan one of that SKU's service plans; the rest is licensing's."""
    add, remove = _read(body)
    products = {p.sku_id: p for p in Product.objects.filter(subscriptions__tenant=tenant).distinct()}
    named = plans_of(tenant=tenant, products=[products[sku_id] for sku_id, _disabled in add if sku_id in products])
    microsoft = {plan_id: name for name, plan_id in microsoft_plan_ids().items()}
    change = LicensesChange()
    for sku_id, disabled in add:
        product = _product(tenant, sku_id, products)
        # the SKU's own plans (the tenant's others included), then any of Microsoft's: licensing refuses
        # one that isn't the product's in the reader's language
        plans = {**microsoft, **{plan_id: name for name, plan_id in named[product.pk].items()}}
        unknown = [str(g) for g in disabled if g not in plans]
        if unknown:
            raise _invalid(f"Service plan {unknown[0]} is not part of the license {sku_id}.")
        change.add[product.pk] = [plans[g] for g in disabled]
    change.remove = [_product(tenant, sku_id, products).pk for sku_id in remove]
    return user_licenses_change(tenant=tenant, user_id=user.pk, change=change, actor=actor, via=VIA)
