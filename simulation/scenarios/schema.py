"""The JSON Schema of a scenario file (CONTRACT.md "Scenario files")."""

from billing.models import PAYMENT_DELAY_MAX_DAYS, BillingFrequency, PaymentHabit, PaymentKind, SubscriptionStatus, Term
from portal.models import IncidentStatus, Role, Service, Tenant

DATE = r"^\d{4}-\d{2}-\d{2}$"
MONEY = r"^-?\d+\.\d{2}$"
DOMAIN = r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$"
KEY = {"type": "string", "minLength": 1, "maxLength": 64}


def _obj(properties: dict, required: list[str] = ()) -> dict:
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
    }


def _array(items: dict) -> dict:
    return {"type": "array", "items": items}


def _enum(values) -> dict:
    return {"type": "string", "enum": list(values)}


DATE_FIELD = {"type": "string", "pattern": DATE}
# Graph's usageLocation: an ISO 3166-1 alpha-2 country code, upper case ("SE", "US").
USAGE_LOCATION = {"type": "string", "pattern": r"^[A-Z]{2}$"}
MONEY_FIELD = {"type": "string", "pattern": MONEY}
PLAN_NAME = {"type": "string", "minLength": 1, "maxLength": 64}
GUID_FIELD = {"type": "string",
              "pattern": r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"}
# How a payer pays its invoices as the days pass (billing.habits): late needs its days, 1 to 365.
HABIT = {"payment_habit": _enum(PaymentHabit.values),
         "payment_delay_days": {"type": "integer", "minimum": 1, "maximum": PAYMENT_DELAY_MAX_DAYS}}

SCHEMA = _obj(
    {
        "clock": DATE_FIELD,
        "description": {"type": "string"},
        "tenants": _array(_obj({
            "name": {"type": "string", "minLength": 1, "maxLength": 200},
            "domain": {"type": "string", "pattern": DOMAIN},
            "kind": _enum(Tenant.Kind.values),
            "agreement": _enum(Tenant.Agreement.values),
            # Domains the tenant's users may be in besides "domain" (a real tenant's other verified domains,
            # from a Graph export); checked, not stored.
            "other_domains": _array({"type": "string", "pattern": DOMAIN}),
            **HABIT,  # the tenant's, for its invoices without a billing profile (MOSA)
            "billing_profiles": _array(_obj({
                "key": KEY,
                "name": {"type": "string", "minLength": 1, "maxLength": 200},
                "payment": _enum(PaymentKind.values),
                **HABIT,
            }, ["key", "name"])),
            "payment_methods": _array(_obj({
                "key": KEY,
                "kind": _enum(PaymentKind.values),
                "last4": {"type": "string", "pattern": r"^\d{4}$"},
                "holder_name": {"type": "string", "maxLength": 200},
                "default": {"type": "boolean"},
            }, ["key", "kind"])),
            "admins": _array(_obj({
                "username": {"type": "string", "minLength": 1, "maxLength": 150},
                "password": {"type": "string", "minLength": 1},
                "roles": {**_array(_enum(Role.values)), "minItems": 1},
                "api_token": {"type": "string", "minLength": 8, "maxLength": 40},
                "display_name": {"type": "string", "maxLength": 150},
            }, ["username", "roles"])),
            "subscriptions": _array(_obj({
                "key": KEY,
                "sku": {"type": "string", "minLength": 1},
                "licenses": {"type": "integer", "minimum": 0},
                "term": _enum(Term.values),
                "billing_frequency": _enum(BillingFrequency.values),
                "start_date": DATE_FIELD,
                "status": _enum(SubscriptionStatus.values),
                "provisioning": _enum(["provisioned", "provisioning"]),
                "source": _enum(["direct", "trial", "product_key", "reseller"]),
                "payment": _enum(PaymentKind.values),
                "payment_method": KEY,
                "billing_profile": KEY,
                "recurring_billing": {"type": "boolean"},
                "trial_ends_on": DATE_FIELD,
                "trial_extended": {"type": "boolean"},
                "addons": _array({"type": "string", "minLength": 1}),
                # Service plans of the SKU the catalog doesn't know (a Graph export's, by its servicePlanName):
                # the users' disabled_plans may name them, and keep them as given. Each a name, or {name, id}
                # with its servicePlanId (an import's); Graph answers a name without one by an id made from it.
                "other_plans": _array({"oneOf": [PLAN_NAME, _obj({"name": PLAN_NAME, "id": GUID_FIELD},
                                                                 ["name", "id"])]}),
            }, ["key", "sku", "licenses"])),
            "users": _array(_obj({
                "upn": {"type": "string", "pattern": r"^[^@\s]+@[^@\s]+$"},
                "display_name": {"type": "string", "minLength": 1, "maxLength": 200},
                "usage_location": USAGE_LOCATION,
                "licenses": _array(_obj({
                    "subscription": KEY,
                    "disabled_plans": _array({"type": "string", "minLength": 1}),
                }, ["subscription"])),
            }, ["upn"])),
            "generate_users": _array(_obj({
                "count": {"type": "integer", "minimum": 1, "maximum": 200000},
                "subscription": KEY,
                "prefix": {"type": "string", "pattern": r"^[a-z][a-z0-9._-]*$"},
                "usage_location": USAGE_LOCATION,
            }, ["count", "subscription"])),
            "invoices": _array(_obj({
                "number": {"type": "string", "minLength": 1, "maxLength": 32},
                "date": DATE_FIELD,
                "due_date": DATE_FIELD,
                "amount": MONEY_FIELD,
                "paid": MONEY_FIELD,
                "billing_profile": KEY,
                "description": {"type": "string", "maxLength": 300},
            }, ["number", "date", "due_date", "amount"])),
            "credit_checks": _array(_obj({
                "status": _enum(["pending", "approved", "rejected"]),
                "requested": DATE_FIELD,
            }, ["requested"])),
            "incidents": _array(_obj({
                "service": _enum(Service.values),
                "status": _enum(IncidentStatus.values),
                "title": {"type": "string", "minLength": 1, "maxLength": 300},
                "opened": DATE_FIELD,
            }, ["service", "status", "title"])),
            "plan_changes": _array(_obj({
                "subscription": KEY,
                "target_sku": {"type": "string", "minLength": 1},
                "status": _enum(["scheduled", "queued"]),
                "licenses": {"type": "integer", "minimum": 1},
                "term": _enum(Term.values),
                "billing_frequency": _enum(BillingFrequency.values),
            }, ["subscription", "target_sku", "status"])),
        }, ["name", "domain"])),
        "support_staff": _array(_obj({
            "username": {"type": "string", "minLength": 1, "maxLength": 150},
            "password": {"type": "string", "minLength": 1},
            "api_token": {"type": "string", "minLength": 8, "maxLength": 40},
        }, ["username"])),
    },
)
