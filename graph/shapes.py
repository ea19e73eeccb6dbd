"""The portal's rows in Graph's shapes: subscribedSku, companySubscription, user (with assignedLicenses and
licenseAssignmentStates) and licenseDetails, with Graph's field names, types and enum values (the SDK's
models parse every field: tests/graph)."""

from datetime import UTC, date, datetime, time
from uuid import UUID

from billing.models import Subscription
from billing.periods import renewal_date
from graph import ids
from graph.selectors import PlanIds, Sku
from licensing.models import DirectoryUser, LicenseAssignment
from portal import clock
from portal.models import Tenant

S = Subscription.Status
# The lifecycle (DESIGN.md "Time") as Graph's capabilityStatus / companySubscription status: Expired keeps the
# users' service (Warning), Disabled keeps it for admins only (Suspended), a cancelled subscription is LockedOut.
STATUS = {S.ACTIVE: "Enabled", S.EXPIRED: "Warning", S.DISABLED: "Suspended", S.DELETED: "Deleted",
          S.CANCELLED: "LockedOut"}
_UNITS = {"Enabled": "enabled", "Warning": "warning", "Suspended": "suspended", "LockedOut": "lockedOut"}


def _when(day: date | None) -> str | None:
    return datetime.combine(day, time(0), tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if day else None


def _instant(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def _provisioning(sub: Subscription) -> str:
    if sub.status in (S.DISABLED, S.DELETED, S.CANCELLED):
        return "Disabled"
    return "Success" if sub.provisioning == Subscription.Provisioning.PROVISIONED else "PendingProvisioning"


def _plans_of(product, plan_ids: PlanIds | None) -> list[tuple[str, UUID]]:
    """(servicePlanName, servicePlanId) of each plan of the product: Microsoft's, then the tenant's others."""
    others = plan_ids.others_of(product.pk) if plan_ids else {}
    return [(m.name, m.service_plan_id) for m in product.microsoft_plans.all()] + sorted(others.items())


def service_plans(product, provisioning: str, plan_ids: PlanIds | None = None) -> list[dict]:
    return [{"servicePlanId": str(plan_id), "servicePlanName": name, "provisioningStatus": provisioning,
             "appliesTo": "User"} for name, plan_id in _plans_of(product, plan_ids)]


def sku(tenant: Tenant, found: Sku, plan_ids: PlanIds | None = None) -> dict:
    """One subscribedSku: every subscription of the product added up."""
    units = {"enabled": 0, "suspended": 0, "warning": 0, "lockedOut": 0}
    for sub in found.subscriptions:
        if STATUS[sub.status] in _UNITS:
            units[_UNITS[STATUS[sub.status]]] += sub.licenses
    status = next((s for s, key in _UNITS.items() if units[key]), "Deleted")
    order = ["Success", "PendingProvisioning", "Disabled"]
    provisioning = min((_provisioning(s) for s in found.subscriptions), key=order.index)
    tenant_id = ids.guid(ids.TENANT, tenant.pk)
    return {
        "id": f"{tenant_id}_{found.product.sku_id}", "accountId": tenant_id, "accountName": tenant.name,
        "appliesTo": "User", "capabilityStatus": status,
        "consumedUnits": sum(s.assigned_licenses for s in found.subscriptions),
        "prepaidUnits": units, "servicePlans": service_plans(found.product, provisioning, plan_ids),
        "skuId": str(found.product.sku_id), "skuPartNumber": found.product.sku,
        "subscriptionIds": [ids.guid(ids.SUBSCRIPTION, s.pk) for s in found.subscriptions],
    }


def _next_lifecycle(sub: Subscription) -> date | None:
    if sub.status == S.ACTIVE and sub.source == Subscription.Source.TRIAL and sub.trial_ends_on:
        return sub.trial_ends_on  # a trial's next stage is its end, as Graph answers for a trial
    if sub.status == S.ACTIVE:
        return renewal_date(start=sub.start_date, term=sub.term, today=clock.today())
    return sub.status_until


def company_subscription(sub: Subscription, plan_ids: PlanIds | None = None) -> dict:
    return {
        "id": ids.guid(ids.SUBSCRIPTION, sub.pk), "commerceSubscriptionId": ids.guid(ids.COMMERCE_SUBSCRIPTION, sub.pk),
        "createdDateTime": _when(sub.start_date), "isTrial": sub.source == Subscription.Source.TRIAL,
        "nextLifecycleDateTime": _when(_next_lifecycle(sub)), "ownerId": None, "ownerTenantId": None,
        "ownerType": None, "serviceStatus": service_plans(sub.product, _provisioning(sub), plan_ids),
        "skuId": str(sub.product.sku_id), "skuPartNumber": sub.product.sku, "status": STATUS[sub.status],
        "totalLicenses": sub.licenses,
    }


def _disabled(assignment: LicenseAssignment, plan_ids: PlanIds) -> list[str]:
    """Every plan the license has turned off, by its servicePlanId (none left out: a script writes back what
    it reads, and a plan it can't see would be turned on)."""
    product_id = assignment.subscription.product_id
    return [str(plan_ids.id_of(product_id, name)) for name in assignment.disabled_plans]


def _state(assignment: LicenseAssignment, plan_ids: PlanIds) -> dict:
    keeps = assignment.subscription.status in (S.ACTIVE, S.EXPIRED)
    return {"assignedByGroup": None, "disabledPlans": _disabled(assignment, plan_ids), "error": "None",
            "lastUpdatedDateTime": _instant(assignment.assigned_at),
            "skuId": str(assignment.subscription.product.sku_id), "state": "Active" if keeps else "Disabled"}


# Every user property the dialect answers, and (in Graph's order) those a GET answers without $select.
USER_PROPERTIES = ["id", "accountEnabled", "assignedLicenses", "businessPhones", "displayName", "givenName",
                   "jobTitle", "licenseAssignmentStates", "mail", "mobilePhone", "officeLocation",
                   "preferredLanguage", "surname", "usageLocation", "userPrincipalName"]
USER_DEFAULT = ["businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone", "officeLocation",
                "preferredLanguage", "surname", "userPrincipalName", "id"]
USER_SELECTABLE = {name.lower(): name for name in USER_PROPERTIES}


def user(found: DirectoryUser, plan_ids: PlanIds, select: list[str] | None = None) -> dict:
    licenses = list(found.licenses.all())
    values = {
        "id": ids.guid(ids.USER, found.pk), "accountEnabled": True,
        "assignedLicenses": [{"skuId": str(a.subscription.product.sku_id), "disabledPlans": _disabled(a, plan_ids)}
                             for a in licenses],
        "businessPhones": [], "displayName": found.display_name, "givenName": None, "jobTitle": None,
        "licenseAssignmentStates": [_state(a, plan_ids) for a in licenses], "mail": None, "mobilePhone": None,
        "officeLocation": None, "preferredLanguage": None, "surname": None,
        "usageLocation": found.usage_location or None, "userPrincipalName": found.upn,
    }
    return {name: values[name] for name in (select or USER_DEFAULT)}


def license_details(assignment: LicenseAssignment, plan_ids: PlanIds) -> dict:
    """One licenseDetails: the license's SKU and each of its service plans (the tenant's others too), off where
    the user has it off."""
    product = assignment.subscription.product
    off = set(assignment.disabled_plans)
    on = _provisioning(assignment.subscription)
    plans = _plans_of(product, plan_ids)
    plans += [(name, plan_ids.id_of(product.pk, name)) for name in sorted(off - {name for name, _id in plans})]
    return {
        "id": f"{ids.guid(ids.USER, assignment.user_id)}_{product.sku_id}",
        "servicePlans": [{"servicePlanId": str(plan_id), "servicePlanName": name,
                          "provisioningStatus": "Disabled" if name in off else on, "appliesTo": "User"}
                         for name, plan_id in plans],
        "skuId": str(product.sku_id), "skuPartNumber": product.sku,
    }
