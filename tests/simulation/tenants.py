"""A tenant as a real one stands, for the import's tests: several products, an expired subscription, a trial,
more users than licenses, users with plans turned off, one with two licenses, one without any; and what the
portal holds of a tenant, to compare an imported one with the one it came from."""

from billing.models import Subscription
from licensing.models import DirectoryUser

TOKEN = "rehearsal-global-admin-token"
DOMAIN = "rehearsal.example"
SCENARIO = {
    "clock": "2026-06-15",
    "tenants": [{
        "name": "Rehearsal AB", "domain": DOMAIN,
        "payment_methods": [{"key": "visa", "kind": "card", "last4": "4242", "default": True}],
        "admins": [{"username": "admin@rehearsal.example", "password": "x-Rehearsal-2026", "roles": ["global_admin"],
                    "api_token": TOKEN}],
        "subscriptions": [
            {"key": "basic", "sku": "O365_BUSINESS_ESSENTIALS", "licenses": 3, "start_date": "2026-01-10"},
            {"key": "std", "sku": "O365_BUSINESS_PREMIUM", "licenses": 10, "start_date": "2026-02-01"},
            {"key": "exo2", "sku": "EXCHANGEENTERPRISE", "licenses": 2, "start_date": "2025-06-01",
             "status": "expired", "recurring_billing": False},
            {"key": "e3", "sku": "ENTERPRISEPACK", "licenses": 25, "start_date": "2026-06-01", "source": "trial"},
        ],
        "users": [
            {"upn": "anna@rehearsal.example", "display_name": "Anna Berg", "usage_location": "SE",
             "licenses": [{"subscription": "basic", "disabled_plans": ["YAMMER_ENTERPRISE", "FORMS_PLAN_E1"]}]},
            {"upn": "bo@rehearsal.example", "display_name": "Bo Ek", "usage_location": "SE",
             "licenses": [{"subscription": "basic"}, {"subscription": "exo2"}]},
            {"upn": "cia@rehearsal.example", "display_name": "Cia Lund", "usage_location": "NO",
             "licenses": [{"subscription": "basic", "disabled_plans": ["SHAREPOINTSTANDARD"]}]},
            {"upn": "dan@rehearsal.example", "display_name": "Dan Ås", "usage_location": "SE",
             "licenses": [{"subscription": "basic"}]},
            {"upn": "eva@rehearsal.example", "display_name": "Eva Ström", "usage_location": "FI",
             "licenses": [{"subscription": "std", "disabled_plans": ["YAMMER_ENTERPRISE"]}]},
            {"upn": "fia@rehearsal.example", "display_name": "Fia Holm",
             "licenses": [{"subscription": "e3"}]},
            {"upn": "gus@rehearsal.example", "display_name": "Gus Nyberg", "usage_location": "SE"},
        ],
    }],
}
NAMES = ["rehearsal", "Rehearsal AB", "anna@", "Anna Berg", "bo@", "Bo Ek", "cia@", "Cia Lund", "Dan Ås", "eva@",
         "Eva Ström", "fia@", "Fia Holm", "gus@", "Gus Nyberg"]


def tenant_state(domain: str) -> dict:
    """Subscriptions (product, licenses, assigned, status, source, dates, term) and users (name, usage
    location, licenses with their plans off) of one tenant, as comparable values."""
    subs = sorted((s.product.sku, s.licenses, s.assigned_licenses, s.status, s.source, s.start_date.isoformat(),
                   s.trial_ends_on.isoformat() if s.trial_ends_on else None, s.term, s.billing_frequency)
                  for s in Subscription.objects.filter(tenant__domain=domain).select_related("product"))
    users = {u.upn: (u.display_name, u.usage_location,
                     sorted((a.subscription.product.sku, sorted(a.disabled_plans)) for a in u.licenses.all()))
             for u in DirectoryUser.objects.filter(tenant__domain=domain).prefetch_related(
                 "licenses__subscription__product")}
    return {"subscriptions": subs, "users": users}


def pattern(state: dict) -> dict:
    """What an anonymized import keeps: the subscriptions as they are, and how many users hold each set of
    licenses with each set of plans off (and how many have a usage location)."""
    from collections import Counter

    return {"subscriptions": state["subscriptions"],
            "licenses": sorted(Counter(repr(licenses) for _n, _l, licenses in state["users"].values()).items()),
            "usage_locations": sorted(Counter(loc for _n, loc, _lic in state["users"].values()).items())}
