"""Every door against a table of hostile values (DESIGN.md "Integrity": hostile input is a 4xx,
never a 5xx, and a refused request writes nothing).

The API's doors are read from the OpenAPI schema drf-spectacular generates: every path and
method, its path, query and header parameters and its request body's fields, filled with the
caller's real ids. The pages' doors are every ``<form>`` of the templates (a test below checks
that the table here names each of them and each of their fields). For each case: no 5xx; the
API answers problem+json with the status pinned here; nothing is written (the row count and
highest key of every table, the audit Event table included, are the same before and after).
Outcomes are written to test-artifacts/hostile-inputs-<database>.json for the docs.
"""

import json
import re
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework import serializers as drf_serializers
from rest_framework.test import APIClient

from billing.models import SubscriptionAddOn
from billing.services import subscription_addon_remove
from planchange.services import plan_change_preview
from portal.api import fields as strict
from portal.inputs import ID_MAX, parse_id
from portal.services import api_token_create, api_token_revoke, event_record
from simulation.models import ClockMove
from tests.factories import (
    BillingProfileFactory,
    CreditCheckFactory,
    DirectoryUserFactory,
    IncidentFactory,
    InvoiceFactory,
    LicenseFactory,
    LoginFactory,
    PlanChangeFactory,
    SubscriptionFactory,
    TenantFactory,
    addon,
    admin_of,
    mosa_standard,
    product,
    token_for,
    webhook_endpoint,
)
from webhooks.models import Delivery

ARTIFACTS = Path("test-artifacts")
TEN_MB = 10 * 1024 * 1024
DEEP = 100_000
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _digits(base, table, fallback):
    text = str(base)
    return text.translate(table) if any(ch.isascii() and ch.isdigit() for ch in text) else fallback


# name → how to make the hostile value from a field's valid value.
HOSTILE = {
    "nul": lambda base: f"{base}\x00",
    "lone_surrogate": lambda base: f"{base}\ud800",
    "arabic_indic_digits": lambda base: _digits(base, ARABIC_INDIC, "٤"),
    "superscript_digits": lambda base: _digits(base, SUPERSCRIPT, "²"),
    "int32_overflow": lambda base: 2**31,
    "int64_overflow": lambda base: 2**63,
    "huge_number": lambda base: 10**30,
    "negative": lambda base: -1,
    "list": lambda base: [base],
    "object": lambda base: {"value": base},
    "bool": lambda base: True,
    "null": lambda base: None,
    "long_string": lambda base: "x" * 300,
    "rtl_override": lambda base: f"\u202e{base}",
}
# In a URL or a query string every value is text.
TEXT_HOSTILE = ["nul", "arabic_indic_digits", "superscript_digits", "int32_overflow", "int64_overflow",
                "huge_number", "negative", "long_string", "rtl_override"]

# Values that are no attack on some fields: a name may be "٤" or, typed in a page's form, "2147483648"
# (the API's text fields take only JSON strings since issue 21: a JSON number there is sent, and is a
# 400), a title may be 300 characters, true is a boolean, an Idempotency-Key is any
# text of 1 to 255 characters, and a nullable field takes null. They are not sent (they would
# rightly be accepted and write); the artifact lists them as "not hostile here".
JSON_NUMBERS = {"int32_overflow", "int64_overflow", "huge_number", "negative"}
TEXT_IN_A_NAME = {"arabic_indic_digits", "superscript_digits"} | JSON_NUMBERS
NOT_HOSTILE = {
    "display_name": TEXT_IN_A_NAME,
    "name": TEXT_IN_A_NAME,  # an API token's name
    "holder_name": TEXT_IN_A_NAME,
    "title": TEXT_IN_A_NAME | {"long_string"},
    "reason": TEXT_IN_A_NAME | {"long_string"},  # why support acted: free text up to 500 characters
    "card_name": TEXT_IN_A_NAME | {"list"},  # a field given twice counts its last value, "²": a name
    "recurring_billing": {"bool"},
    "backup_confirmed": {"bool"},
    # A webhook's description is free text up to 500 characters (a field given twice: its last value).
    "description": TEXT_IN_A_NAME | {"long_string", "list"},
    # The preview takes the request's fields and ignores quote_id: an id in range is no attack there.
    ("/api/v1/plan-changes/preview/", "POST", "quote_id"): {"int32_overflow"},
}


# --- The world: one tenant of each agreement, support staff, real ids ------------------------


@pytest.fixture
def world(at_date):
    at_date("2026-06-16")
    tenant, card, std, licensed = mosa_standard(users=3)
    basic = SubscriptionFactory(tenant=tenant, product=product("O365_BUSINESS_ESSENTIALS"), licenses=5,
                                payment_method=card)
    SubscriptionAddOn.objects.create(subscription=basic, addon=addon("EXTRA_FILE_STORAGE"), added_on=date(2026, 1, 1))
    # std had Extra File Storage and it was removed: adding it back is a valid request.
    SubscriptionAddOn.objects.create(subscription=std, addon=addon("EXTRA_FILE_STORAGE"), added_on=date(2026, 1, 1))
    subscription_addon_remove(tenant=tenant, subscription_id=std.pk, code="EXTRA_FILE_STORAGE", actor="setup")
    scheduled = PlanChangeFactory(subscription=basic, target_product=product("O365_BUSINESS_PREMIUM"), licenses=5,
                                  status="scheduled", schedule="renewal", scheduled_for=date(2027, 1, 1))
    admin = admin_of(tenant)
    elsewhere = TenantFactory(name="Elsewhere", domain="elsewhere.example")
    profile = BillingProfileFactory(name="Fabrikam billing", tenant__name="Fabrikam",
                                    tenant__domain="fabrikam.example")
    mca = SubscriptionFactory(tenant=profile.tenant, licenses=12, billing_profile=profile, payment="invoice",
                              start_date=date(2025, 10, 1))
    for _ in range(10):
        LicenseFactory(subscription=mca)
    mca_scheduled_sub = SubscriptionFactory(tenant=profile.tenant, product=product("O365_BUSINESS_ESSENTIALS"),
                                            licenses=3, billing_profile=profile, payment="invoice")
    mca_scheduled = PlanChangeFactory(subscription=mca_scheduled_sub, target_product=product("O365_BUSINESS_PREMIUM"),
                                      licenses=3, status="scheduled", schedule="renewal",
                                      scheduled_for=date(2027, 1, 1))
    staff = LoginFactory(is_staff=True)
    # The admin's API tokens: a live one (its id in DELETE tokens/{id}/) and a revoked one (revoking it
    # again is refused as done already: the form's valid post writes nothing).
    live_token, _key = api_token_create(user=admin, name="Scripts")
    revoked_token, _key = api_token_create(user=admin, name="Old laptop")
    api_token_revoke(user=admin, token_id=revoked_token.pk, actor="setup")
    webhook = webhook_endpoint(tenant, url="https://93.184.215.14/hook")
    delivery = Delivery.objects.create(endpoint=webhook, message_id="msg_world", type="webhook.test", body="{}",
                                       status="delivered")
    world = {
        "tenant": tenant, "card": card, "std": std, "basic": basic, "licensed": licensed,
        "free": DirectoryUserFactory(tenant=tenant, upn=f"free@{tenant.domain}"),
        "paid_invoice": InvoiceFactory(tenant=tenant, number="INV-PAID", total="10.00", paid="10.00"),
        "event": event_record(tenant=tenant, actor="setup", verb="setup.done"),
        "scheduled": scheduled, "admin": admin, "staff": staff,
        "quote": plan_change_preview(tenant=tenant, subscription_id=std.pk, target_sku="SPB"),
        "credit_check": CreditCheckFactory(tenant=elsewhere),
        "incident": IncidentFactory(tenant=elsewhere),
        "elsewhere": elsewhere,
        "mca": mca, "mca_admin": admin_of(profile.tenant), "mca_scheduled": mca_scheduled,
        "live_token": live_token, "revoked_token": revoked_token,
        "webhook": webhook, "delivery": delivery,
        "clock_move": ClockMove.objects.create(actor="support@portal.local", dry_run=True, start=date(2026, 6, 15),
                                               target=date(2026, 7, 1), status="done"),
    }
    return world


def fingerprint() -> list:
    """Row count and highest key of every table, in one query."""
    selects = []
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy or not model._meta.managed:
            continue
        table, pk = connection.ops.quote_name(model._meta.db_table), connection.ops.quote_name(model._meta.pk.column)
        selects.append(  # names from the models, quoted: no input reaches this SQL
            f"SELECT '{model._meta.label_lower}', COUNT(*), CAST(MAX({pk}) AS VARCHAR(64)) FROM {table}")  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(selects))
        return sorted(cursor.fetchall())


def changes(before, after) -> dict:
    return {b[0]: {"before": list(b[1:]), "after": list(a[1:])} for b, a in zip(before, after, strict=True) if b != a}


OUTCOMES: list[dict] = []


@pytest.fixture(scope="module", autouse=True)
def _artifact():
    yield
    if OUTCOMES:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"hostile-inputs-{connection.vendor}.json"
        text = json.dumps({"cases": len(OUTCOMES), "outcomes": OUTCOMES}, indent=1, ensure_ascii=False, default=str)
        path.write_bytes(text.encode("utf-8", "backslashreplace"))  # a lone surrogate as \ud800


def _listed(failures) -> str:
    return "\n".join(f"{f['target']} = {f['value']}: answered {f['status']} {f.get('code')} {f['content_type']}, "
                     f"wrote {f['written']}; expected {f['expected']}" for f in failures)


def _shown(value):
    """A value as the artifact shows it (bodies of megabytes by their size)."""
    if isinstance(value, str | bytes) and len(value) > 400:
        return f"<{len(value)} {'bytes' if isinstance(value, bytes) else 'characters'}>"
    return value


# --- The API, from its OpenAPI schema ----------------------------------------------------------


SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
# A body that is a file, not fields: an import's body is a Graph export the import reads and refuses with its own
# codes (tests/simulation/test_import_api.py sends it hostile bodies, parameters and sizes).
OWN_SWEEP = {("/api/v1/support/tenants/import/", "POST")}
ENDPOINTS = [(path, method.upper()) for path, item in SCHEMA["paths"].items() for method in item
             if method in ("get", "post", "put", "patch", "delete") and (path, method.upper()) not in OWN_SWEEP]


def _resolve(ref: str) -> dict:
    return SCHEMA["components"]["schemas"][ref.rsplit("/", 1)[1]]


def request_fields(operation) -> dict:
    """The request body's properties (JSON content), or None when it takes no body."""
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if body is None:
        return None
    schema = body["schema"]
    return _resolve(schema["$ref"])["properties"] if "$ref" in schema else schema.get("properties", {})


def base_bodies(w) -> dict:
    """A valid body for each endpoint that takes one: each case changes one field of it."""
    std, card = w["std"], w["card"]
    change = {"subscription": std.pk, "target_sku": "SPB", "licenses": 25, "schedule": "now", "term": "P1Y",
              "billing_frequency": "monthly", "payment_method": card.pk, "quote_id": w["quote"].pk}
    return {
        ("/api/v1/subscriptions/", "POST"): {"sku": "O365_BUSINESS", "licenses": 5, "term": "P1Y",
                                             "billing_frequency": "monthly", "payment_method": card.pk},
        ("/api/v1/subscriptions/{id}/", "PATCH"): {"licenses": 30, "recurring_billing": False},
        # One of the two (ONE_OF): each case sends its field alone.
        ("/api/v1/subscriptions/{id}/licenses/", "POST"): {"add": 1, "remove": 1},
        ("/api/v1/subscriptions/{id}/addons/", "POST"): {"code": "EXTRA_FILE_STORAGE"},
        ("/api/v1/plan-changes/", "POST"): change,
        ("/api/v1/plan-changes/preview/", "POST"): change,
        ("/api/v1/users/", "POST"): {"upn": f"new.user@{w['tenant'].domain}", "display_name": "New User"},
        ("/api/v1/licenses/assign/", "POST"): {"users": [w["free"].upn], "subscription": std.pk},
        ("/api/v1/licenses/unassign/", "POST"): {"users": [w["licensed"][0].upn], "subscription": std.pk},
        ("/api/v1/licenses/replace/", "POST"): {"users": [w["licensed"][0].upn], "from_subscription": std.pk,
                                                "to_subscription": w["basic"].pk, "backup_confirmed": False,
                                                "reviewed": ""},
        ("/api/v1/licenses/preview/", "POST"): {"users": [w["licensed"][0].upn], "from_subscription": std.pk,
                                                "to_subscription": w["basic"].pk},
        ("/api/v1/payment-methods/", "POST"): {"number": "4242 4242 4242 4242", "expiry": "12/30",
                                               "holder_name": "Alice Andersson"},
        ("/api/v1/support/clock/", "POST"): {"days": 1, "business_days": 1, "to": "2026-07-01", "dry_run": True},
        ("/api/v1/support/incidents/", "POST"): {"tenant": w["elsewhere"].pk, "service": "teams",
                                                 "status": "serviceDegradation", "title": "Calls drop",
                                                 "reason": "Reported by 3 admins"},
        ("/api/v1/support/incidents/{id}/", "PATCH"): {"status": "resolved", "reason": "Fixed upstream"},
        ("/api/v1/support/credit-checks/{id}/approve/", "POST"): {"reason": "Paid upfront"},
        ("/api/v1/support/credit-checks/{id}/reject/", "POST"): {"reason": "Card declined twice"},
        ("/api/v1/support/plan-changes/{id}/retry/", "POST"): {"reason": "Worker host rebooted"},
        ("/api/v1/support/plan-changes/{id}/cancel/", "POST"): {"reason": "The customer asked"},
        ("/api/v1/support/subscriptions/{id}/provision/", "POST"): {"reason": "Customer waiting"},
        ("/api/v1/support/tenants/{id}/payment-habits/", "POST"): {
            "billing_profile": w["mca"].billing_profile_id, "payment_habit": "late", "payment_delay_days": 10,
            "reason": "Training: pays late"},
        # Token expiries are real time, not the simulation clock's.
        ("/api/v1/tokens/", "POST"): {"name": "Nightly report",
                                      "expires": (timezone.now() + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")},
        ("/api/v1/webhooks/", "POST"): {"url": "https://93.184.215.14/other-hook", "events": ["plan_change.completed"],
                                        "description": "Tell the ERP"},
    }


# Actions that hand the id in the URL to a service: its own "not found" code.
# Each kind of object's own "not found" (docs/api.md "Not found"), by the path's segment before its id.
NOT_FOUND_BY_KIND = {
    "events": "event_not_found", "invoices": "invoice_not_found", "payment-methods": "payment_method_not_found",
    "plan-changes": "plan_change_not_found", "products": "product_not_found", "subscriptions": "subscription_not_found",
    "credit-checks": "credit_check_not_found", "incidents": "incident_not_found", "users": "user_not_found",
    "webhooks": "webhook_not_found", "deliveries": "delivery_not_found", "tokens": "api_token_not_found",
    "tenants": "tenant_not_found", "moves": "clock_move_not_found",
}
# What the router takes as an id (portal.inputs.ID_PATTERN) or a SKU (the products route); the paths whose
# id is an ``<id:…>`` converter take only ids up to ID_MAX (a larger one is a path the API doesn't have).
ROUTED = {"sku": r"[A-Za-z0-9_-]{1,64}", "code": r"[A-Z0-9_]+"}
CONVERTED = {"/api/v1/subscriptions/{id}/upgrades/", "/api/v1/support/tenants/{id}/payment-habits/"}


def path_not_found(path: str, name: str) -> str:
    """The code a routed but missing ``{name}`` of ``path`` answers."""
    if name == "code":
        return "addon_not_found"
    return NOT_FOUND_BY_KIND[path.split("{" + name + "}")[0].rstrip("/").rsplit("/", 1)[1]]

# The clock takes exactly one of its fields: each case sends the hostile field alone.
ONE_OF = {("/api/v1/support/clock/", "POST"), ("/api/v1/subscriptions/{id}/licenses/", "POST")}


def real_path_params(w, path: str) -> dict:
    """The caller's real ids for a path's parameters."""
    resource = re.match(r"/api/v1/(.+?)/\{", path)
    if "/deliveries/" in path:
        return {"webhook_pk": w["webhook"].pk, "id": w["delivery"].pk}
    ids = {
        "subscriptions": w["basic"].pk if "{code}" in path else w["std"].pk, "invoices": w["paid_invoice"].pk,
        "users": w["free"].pk, "plan-changes": w["scheduled"].pk, "payment-methods": w["card"].pk,
        "events": w["event"].pk, "products": "SPB", "support/plan-changes": w["scheduled"].pk,
        "support/credit-checks": w["credit_check"].pk, "support/incidents": w["incident"].pk,
        "support/subscriptions": w["std"].pk, "tokens": w["live_token"].pk, "webhooks": w["webhook"].pk,
        "support/tenants": w["mca"].tenant_id, "support/clock/moves": w["clock_move"].pk,
    }
    return {"id": ids[resource.group(1)], "sku": "SPB", "code": "EXTRA_FILE_STORAGE"} if resource else {}


# Text the serializer takes as text (a name, a card number, a SKU, a UPN to look up) goes on to
# the service, which refuses it with its own code.
SERVICE_CODES = {"users": "unknown_users", "number": "invalid_card", "expiry": "invalid_card",
                 "holder_name": "invalid_card", "sku": "unknown_sku", "target_sku": "unknown_sku",
                 "url": "webhook_url_invalid",  # a webhook's URL
                 "reason": "invalid_reason",  # why support acted (portal.services.support_reason_clean)
                 "payment_habit": "invalid_payment_habit"}  # a payer's habit (billing.services.payment_habit_set)


def _expected_for_field(path, method, field, prop, value_name, hostile) -> tuple[int, str]:
    """What a hostile value in a body field answers: the JSON parser refuses what no column can
    store, the serializer a wrong type, a string too long or not a choice; text that is only
    unknown is the service's to refuse."""
    if value_name in ("nul", "lone_surrogate"):
        return 400, "parse_error"
    if (path, method, field, value_name) in SERVICE_REFUSALS:
        return SERVICE_REFUSALS[(path, method, field, value_name)]
    if "oneOf" in prop:  # text or blank (DRF's allow_blank): the text is what is checked
        prop = {**prop, **prop["oneOf"][0]}
    free_text = prop.get("type") == "string" and "enum" not in prop and "format" not in prop
    if isinstance(hostile, int) and prop.get("type") == "string":  # text, as the schema says: a number is a wrong type
        return 400, "invalid"
    if not free_text or field not in SERVICE_CODES or isinstance(hostile, list | dict | bool) or hostile is None:
        return 400, "invalid"
    if len(str(hostile)) > prop.get("maxLength", len(str(hostile))):
        return 400, "invalid"
    return 422, SERVICE_CODES[field]


# A whole number in range is a fine id: the service says there is no such object.
_NO_SUCH = {
    ("/api/v1/subscriptions/", "POST", "payment_method"): (422, "unknown_payment_method"),
    ("/api/v1/plan-changes/preview/", "POST", "subscription"): (404, "subscription_not_found"),
    ("/api/v1/plan-changes/preview/", "POST", "payment_method"): (422, "unknown_payment_method"),
    ("/api/v1/plan-changes/", "POST", "subscription"): (404, "subscription_not_found"),
    ("/api/v1/plan-changes/", "POST", "payment_method"): (422, "unknown_payment_method"),
    ("/api/v1/plan-changes/", "POST", "quote_id"): (404, "quote_not_found"),
    ("/api/v1/licenses/assign/", "POST", "subscription"): (404, "subscription_not_found"),
    ("/api/v1/licenses/unassign/", "POST", "subscription"): (404, "subscription_not_found"),
    ("/api/v1/licenses/replace/", "POST", "from_subscription"): (404, "subscription_not_found"),
    ("/api/v1/licenses/replace/", "POST", "to_subscription"): (404, "subscription_not_found"),
    ("/api/v1/licenses/preview/", "POST", "from_subscription"): (404, "subscription_not_found"),
    ("/api/v1/licenses/preview/", "POST", "to_subscription"): (404, "subscription_not_found"),
    ("/api/v1/support/incidents/", "POST", "tenant"): (404, "tenant_not_found"),
    ("/api/v1/support/tenants/{id}/payment-habits/", "POST", "billing_profile"): (422, "unknown_billing_profile"),
}
SERVICE_REFUSALS = {(*key, "int32_overflow"): outcome for key, outcome in _NO_SUCH.items()}
# A refused POST plan-changes/ keeps its answer for its Idempotency-Key (CONTRACT.md: the same
# key replays it), so a refusal by the service writes exactly that record.
REPLAYED_REFUSAL = {"planchange.idempotencyrecord"}


def _path_expected(path: str, name: str, value_name: str, hostile: str) -> tuple[int, str]:
    """A hostile path parameter: a NUL is refused first; what the router takes reaches the view, which says
    which kind of object is missing; anything else is a path the API doesn't have."""
    if value_name == "nul":
        return 400, "nul_character"
    if re.fullmatch(ROUTED.get(name, r"[0-9]{1,19}"), hostile) and (
            name in ROUTED or path not in CONVERTED or int(hostile) <= ID_MAX):
        return 404, path_not_found(path, name)
    return 404, "not_found"


def _query_expected(param: dict, value_name: str, paginated: bool) -> tuple[int, str | None]:
    """A page that isn't a whole number in ASCII digits, or past the last, is 404; a page size that isn't a
    whole number of 1 or more is 400 (a huge one gives the largest page); a filter of listed values (an
    enum) refuses any other; a search is text."""
    if value_name == "nul":
        return 400, "nul_character"
    if param["name"] == "page" and paginated:
        return 404, "not_found"
    if param["name"] == "page_size" and value_name not in ("int32_overflow", "int64_overflow", "huge_number"):
        return 400, "invalid"
    return (400, "invalid") if "enum" in param["schema"] else (200, None)


class _Cases:
    """The hostile cases of one endpoint: (target, value name, request kwargs, expected (status, code))."""

    def __init__(self, w, path: str, method: str):
        self.path, self.method = path, method
        self.operation = SCHEMA["paths"][path][method.lower()]
        self.params = real_path_params(w, path)
        self.url = path.format(**self.params)
        self.fields = request_fields(self.operation)
        self.base = base_bodies(w).get((path, method))
        if self.fields is not None:
            assert self.base is not None, f"{method} {path}: give it a valid body in base_bodies()"
            assert set(self.fields) <= set(self.base), (
                f"{method} {path}: base_bodies() lacks {set(self.fields) - set(self.base)}")
        self.headers = {p["name"]: "hostile-sweep" for p in self.operation.get("parameters", []) if p["in"] == "header"}
        self.cases: list[dict] = []

    def add(self, target, value_name, expected, *, url=None, query=None, body=None, raw=None, headers=None,
            content_type="application/json"):
        self.cases.append({"target": target, "value": value_name, "expected": expected, "url": url or self.url,
                           "query": query, "body": body, "raw": raw, "headers": self.headers if headers is None
                           else headers, "content_type": content_type})

    def path_cases(self) -> None:
        path, base = self.path, self.base
        body = dict(list(base.items())[:1]) if base and (path, self.method) in ONE_OF else base  # a body that holds
        for name in re.findall(r"\{(\w+)\}", path):
            for value_name in TEXT_HOSTILE:
                hostile = str(HOSTILE[value_name](self.params[name]))
                self.add(f"path.{name}", value_name, _path_expected(path, name, value_name, hostile),
                         url=path.format(**{**self.params, name: quote(hostile, safe="")}), body=body)

    def parameter_cases(self) -> None:
        paginated = "Paginated" in json.dumps(self.operation["responses"])
        for param in self.operation.get("parameters", []):
            if param["in"] == "query":
                for value_name in TEXT_HOSTILE:
                    self.add(f"query.{param['name']}", value_name, _query_expected(param, value_name, paginated),
                             query={param["name"]: str(HOSTILE[value_name]("1"))}, body=self.base)
            elif param["in"] == "header":
                # A long Idempotency-Key is refused; a long Prefer is a preference nobody has: the body decides.
                long_one = (400, "idempotency_key_required") if param["name"] == "Idempotency-Key" else (400, "invalid")
                for value_name, expected in (("nul", (400, "nul_character")), ("long_string", long_one)):
                    self.add(f"header.{param['name']}", value_name, expected, body=self.base,
                             headers={**self.headers, param["name"]: HOSTILE[value_name]("k")})
        self.add("query", "nul", (400, "nul_character"), query={"q": "\x00"}, body=self.base)
        self.add("body", "huge_body", (413, "body_too_large"), raw=json.dumps({"x": "x" * TEN_MB}))

    def body_cases(self) -> None:
        fields = self.fields
        self.add("body", "deep_body", (400, "parse_error"), raw="[" * DEEP + "]" * DEEP)
        self.add("body", "malformed_json", (400, "parse_error"), raw='{"' + next(iter(fields)) + '": ')
        for value_name, raw in (("top_level_list", "[]"), ("top_level_string", '"x"'), ("top_level_null", "null"),
                                ("top_level_number", "1e999")):
            self.add("body", value_name, (400, "invalid"), raw=raw)
        nullable = {name for name, prop in fields.items() if prop.get("nullable")}
        for field, prop in fields.items():
            targets = [(field, self.base[field], prop, False)]
            if prop.get("type") == "array":
                targets.append((f"{field}[0]", self.base[field][0], prop["items"], True))
            for target, valid, target_prop, item in targets:
                self.field_cases(field, target, valid, target_prop, item, nullable)

    def field_cases(self, field, target, valid, target_prop, item, nullable) -> None:
        path, method = self.path, self.method
        not_hostile = NOT_HOSTILE.get(field, set()) | NOT_HOSTILE.get((path, method, field), set())
        if target_prop.get("type") == "string" or "oneOf" in target_prop:  # a JSON number is no text here
            not_hostile = not_hostile - JSON_NUMBERS
        for value_name, make in HOSTILE.items():
            if value_name in not_hostile or (value_name == "null" and field in nullable):
                OUTCOMES.append({"door": "api", "endpoint": f"{method} {path}", "target": f"body.{target}",
                                 "value": value_name, "not_sent": "not hostile here: a valid value"})
                continue
            hostile = make(valid)
            expected = (_expected_for_field(path, method, field, target_prop, value_name, hostile)
                        if item or target_prop.get("type") != "array" else
                        (400, "parse_error") if value_name in ("nul", "lone_surrogate") else (400, "invalid"))
            body = {field: [hostile] if item else hostile}
            self.add(f"body.{target}", value_name, expected,
                     body=body if (path, method) in ONE_OF else {**self.base, **body})


def api_cases(w, path, method):
    """(target, value name, request kwargs, expected (status, code)) for one endpoint."""
    cases = _Cases(w, path, method)
    cases.path_cases()
    cases.parameter_cases()
    if cases.fields is not None:
        cases.body_cases()
    return cases.cases


def send(client, case, method):
    path = case["url"] + ("?" + urlencode(case["query"]) if case["query"] else "")
    headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in case["headers"].items()}
    if case["raw"] is not None:
        data = case["raw"]
    elif case["body"] is not None and method not in ("GET", "DELETE"):
        data = json.dumps(case["body"])
    else:
        data = ""
    return client.generic(method, path, data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data,
                          content_type=case["content_type"], **headers)


def _api_client(user) -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    return client


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "method"), ENDPOINTS, ids=[f"{m} {p}" for p, m in ENDPOINTS])
def test_every_api_endpoint_refuses_every_hostile_value(world, path, method):
    client = _api_client(world["staff"] if path.startswith("/api/v1/support/") else world["admin"])
    failures, after = [], fingerprint()
    for n, case in enumerate(api_cases(world, path, method)):
        if "Idempotency-Key" in case["headers"] and case["headers"]["Idempotency-Key"] == "hostile-sweep":
            case["headers"] = {**case["headers"], "Idempotency-Key": f"hostile-sweep-{n}"}
        before = after  # nothing else writes between two cases
        response = send(client, case, method)
        after = fingerprint()
        written = changes(before, after)
        status, code = case["expected"]
        problem = response.get("Content-Type") == "application/problem+json"
        got_code = response.json().get("code") if problem else None
        expected_writes = set()
        if path == "/api/v1/plan-changes/" and method == "POST" and status in (404, 409, 422):
            expected_writes = REPLAYED_REFUSAL
        outcome = {
            "door": "api", "endpoint": f"{method} {path}", "target": case["target"], "value": case["value"],
            "sent": _shown(case["raw"] if case["raw"] is not None else case["body"] if case["target"].startswith(
                "body") else case["query"] or case["url"]),
            "status": response.status_code, "code": got_code, "content_type": response.get("Content-Type"),
            "written": sorted(written),
        }
        OUTCOMES.append(outcome)
        ok = (response.status_code, got_code) == (status, code) and set(written) == expected_writes and (
            problem if status >= 400 else response.get("Content-Type") == "application/json")
        if not ok:
            failures.append({**outcome, "expected": [status, code], "written": written,
                             "body": response.content[:300].decode(errors="replace")})
    assert failures == [], _listed(failures)


# --- Every request field is a strict one --------------------------------------------------------


def _request_serializers():
    generator = SchemaGenerator()
    generator.get_schema(request=None, public=True)
    for component in generator.registry._components.values():
        if component.type == "schemas" and component.name.endswith("Request") and component.object is not None:
            yield component.name, component.object


def _fields(serializer):
    serializer = serializer() if isinstance(serializer, type) else serializer
    for name, field in serializer.fields.items():
        yield name, field
        if isinstance(field, drf_serializers.ListField):
            yield f"{name}[]", field.child


def test_every_request_integer_date_and_id_field_is_strict():
    loose = []
    for component, serializer in _request_serializers():
        for name, field in _fields(serializer):
            if field.read_only:
                continue
            if isinstance(field, drf_serializers.IntegerField) and not isinstance(field, strict.StrictIntegerField):
                loose.append(f"{component}.{name}: {type(field).__name__}")
            if isinstance(field, drf_serializers.DateField) and not isinstance(field, strict.StrictDateField):
                loose.append(f"{component}.{name}: {type(field).__name__}")
            if isinstance(field, drf_serializers.PrimaryKeyRelatedField) and not isinstance(field, strict.IdRelatedField):
                loose.append(f"{component}.{name}: {type(field).__name__}")
            if isinstance(field, strict.StrictIntegerField):
                assert field.min_value is not None and field.max_value is not None, f"{component}.{name}"
    assert loose == []



# --- The pages: every <form> of the templates ------------------------------------------------

# Forms whose <form> has no action post to their own page.
PAGE_OF_TEMPLATE = {"checkout.html": "planchange:checkout", "change_option.html": "planchange:change-option",
                    "console.html": "support:console", "active_users.html": "users:active"}


def template_forms() -> set:
    """(url name, method, field) for every field of every <form> of the templates (fields joined
    to a form by its ``form=`` attribute included)."""
    found, by_id, joined = set(), {}, []
    for template in Path("templates").rglob("*.html"):
        # A form's fields may come from a partial it includes (the payment method choice).
        text = re.sub(r'\{% include "([\w/.-]+)"[^%]*%\}', lambda m: (Path("templates") / m.group(1)).read_text(),
                      template.read_text())
        for form in re.finditer(r"<form\b([^>]*)>(.*?)</form>", text, re.S):
            attrs, inner = form.groups()
            action = re.search(r"action=\"\{% url '([\w:-]+)'", attrs)
            key = (action.group(1) if action else PAGE_OF_TEMPLATE[template.name],
                   re.search(r'method="(\w+)"', attrs).group(1).upper())
            found.add((*key, None))
            found |= {(*key, name) for name in re.findall(r'\bname="(\w+)"', inner) if name != "csrfmiddlewaretoken"}
            form_id = re.search(r'\bid="([\w-]+)"', attrs)
            if form_id:
                by_id[form_id.group(1)] = key
        joined += re.findall(r'<input\b[^>]*\bname="(\w+)"[^>]*\bform="([\w-]+)"', text)
    found |= {(*by_id[form_id], name) for name, form_id in joined}
    return found


# Checkout and the Change plan pane show the refusal beside a fresh quote: the preview stores it
# (a quote records what it was computed from, DESIGN.md "Money") with its audit event.
SHOWS_A_QUOTE = {"planchange.quote", "portal.event"}


def failed_login_records() -> set:
    """A refused sign-in may be recorded for the lockout (django-axes' tables, when installed):
    that record is the defence, not the hostile value's doing."""
    return {model._meta.label_lower for model in apps.get_models() if model._meta.app_label == "axes"}


def forms(w) -> dict:
    """Each form: who sends it, where, a valid submission (each case changes one field of it),
    the status a refusal answers, and the paths' parameters with their real values."""
    std, mca = w["std"], w["mca"]
    checkout = "/billing/products/{subscription_id}/upgrades/{sku}/checkout/"
    return {
        ("login", "POST"): {
            # A wrong password: Django's login takes "admin⁰" as "admin0" (NFKC), a real login.
            "as": None, "url": "/login/", "status": 200, "writes": failed_login_records(),
            "base": {"username": w["admin"].username, "password": "not-the-password", "next": "/"}},
        ("set_language", "POST"): {
            "as": "admin", "url": "/i18n/setlang/", "status": 302, "base": {"language": "sv", "next": "/"}},
        ("logout", "POST"): {"as": "admin", "url": "/logout/", "status": None, "base": {}},
        ("billing:invoice-pay", "POST"): {
            "as": "admin", "url": "/billing/invoices/{invoice_id}/pay/", "status": 302,
            "path": {"invoice_id": w["paid_invoice"].pk}, "path_status": {"invoice_id": 404},
            "base": {"next": "/billing/bills/"}},
        ("billing:addon-remove", "POST"): {
            "as": "admin", "url": "/billing/products/{subscription_id}/addons/{code}/remove/", "status": 302,
            "path": {"subscription_id": w["basic"].pk, "code": "EXTRA_FILE_STORAGE"},
            "path_status": {"subscription_id": 404}, "base": {"confirm": "yes"}},
        ("billing:addon-add", "POST"): {
            "as": "admin", "url": "/billing/products/{subscription_id}/addons/{code}/add/", "status": 302,
            "path": {"subscription_id": std.pk, "code": "EXTRA_FILE_STORAGE"},
            "path_status": {"subscription_id": 404}, "base": {"confirm": "yes"}},
        ("planchange:cancel-change", "POST"): {
            "as": "mca_admin", "url": "/billing/products/{subscription_id}/changes/{change_id}/cancel/",
            "status": 302, "base": {}, "path_status": {"subscription_id": 404, "change_id": 404},
            "path": {"subscription_id": w["mca_scheduled"].subscription_id, "change_id": w["mca_scheduled"].pk}},
        ("planchange:checkout", "POST"): {
            "as": "admin", "url": checkout, "status": 200, "path": {"subscription_id": std.pk, "sku": "SPB"},
            "path_status": {"subscription_id": 404, "sku": 404},
            "writes": SHOWS_A_QUOTE,
            "base": {"payment_method": "new", "card_number": "4242 4242 4242 4242", "card_expiry": "12/30",
                     "card_name": "Alice Andersson", "quote_id": w["quote"].pk, "term": "P1Y",
                     "billing_frequency": "monthly", "only": "", "download": ""},
            "field_status": {"term": 302, "billing_frequency": 302}},
        ("planchange:change-option", "POST"): {
            "as": "mca_admin", "url": "/billing/products/{subscription_id}/change/", "status": 200,
            "writes": SHOWS_A_QUOTE,
            "path": {"subscription_id": mca.pk}, "path_status": {"subscription_id": 404},
            "base": {"target_sku": "SPB", "licenses": "15", "schedule": "renewal", "term": "P1Y",
                     "billing_frequency": "annual", "quote_id": ""}},
        ("billing:cancel-subscription", "POST"): {  # std has licensed users: even a valid post is refused
            "as": "admin", "url": "/billing/products/{subscription_id}/cancel/", "status": 302,
            "path": {"subscription_id": std.pk}, "path_status": {"subscription_id": 404}, "base": {"confirm": "yes"}},
        ("billing:licenses", "POST"): {
            "as": "admin", "url": "/billing/products/{subscription_id}/licenses/", "status": 302,
            "path": {"subscription_id": std.pk}, "path_status": {"subscription_id": 404},
            "base": {"action": "buy", "count": "1"}},
        ("billing:recurring-billing", "POST"): {
            "as": "admin", "url": "/billing/products/{subscription_id}/recurring-billing/", "status": 302,
            "path": {"subscription_id": std.pk}, "path_status": {"subscription_id": 404}, "base": {"enabled": "on"}},
        ("billing:trial-extend", "POST"): {  # std isn't a trial: even a valid post is refused
            "as": "admin", "url": "/billing/products/{subscription_id}/trial/extend/", "status": 302,
            "path": {"subscription_id": std.pk}, "path_status": {"subscription_id": 404}, "base": {}},
        ("billing:trial-purchase", "POST"): {
            "as": "admin", "url": "/billing/products/{subscription_id}/trial/purchase/", "status": 302,
            "path": {"subscription_id": std.pk}, "path_status": {"subscription_id": 404}, "base": {}},
        ("support:clock", "POST"): {
            "as": "staff", "url": "/support/clock/", "status": 302, "base": {"how": "days", "value": "1",
                                                                              "action": "move"}},
        ("support:console", "GET"): {
            "as": "staff", "url": "/support/", "status": 200,
            "base": {"status": "queued", "page": "1", "tenant": w["tenant"].pk, "older": "3", "q": "Contoso"}},
        ("support:tenants", "GET"): {"as": "staff", "url": "/support/tenants/", "status": 200, "base": {"q": "Contoso"}},
        # Support's actions: each valid post is refused by the state it meets (a scheduled change isn't
        # retryable, a provisioned subscription can't be provisioned again), or (cancel, credit checks,
        # incidents) by an unticked confirmation, so no case writes.
        ("support:change-retry", "POST"): {
            "as": "staff", "url": "/support/changes/{change_id}/retry/", "status": 302,
            "path": {"change_id": w["scheduled"].pk}, "path_status": {"change_id": 404},
            "base": {"confirm": "yes", "reason": "Worker host rebooted", "next": "/support/"}},
        ("support:change-cancel", "POST"): {
            "as": "staff", "url": "/support/changes/{change_id}/cancel/", "status": 302,
            "path": {"change_id": w["scheduled"].pk},  # the box unticked: asked for before the service looks
            "base": {"confirm": "", "reason": "The customer asked", "next": "/support/"}},
        ("support:credit-check", "POST"): {
            "as": "staff", "url": "/support/credit-checks/{check_id}/", "status": 302,
            "path": {"check_id": w["credit_check"].pk},
            "base": {"decision": "approve", "confirm": "", "reason": "Paid upfront", "next": "/support/"}},
        ("support:incident-create", "POST"): {
            "as": "staff", "url": "/support/incidents/", "status": 302,
            "base": {"tenant": w["elsewhere"].pk, "service": "teams", "status": "serviceDegradation",
                     "title": "Calls drop", "confirm": "", "reason": "Reported by 3 admins", "next": "/support/"}},
        ("support:incident-change", "POST"): {
            "as": "staff", "url": "/support/incidents/{incident_id}/", "status": 302,
            "path": {"incident_id": w["incident"].pk},
            "base": {"status": "serviceRestored", "confirm": "", "reason": "Fixed", "next": "/support/"}},
        ("support:provision", "POST"): {
            "as": "staff", "url": "/support/subscriptions/{subscription_id}/provision/", "status": 302,
            "path": {"subscription_id": w["std"].pk}, "path_status": {"subscription_id": 404},
            "base": {"confirm": "yes", "reason": "Customer waiting", "next": "/support/"}},
        ("support:view-as", "POST"): {
            "as": "staff", "url": "/support/tenants/{tenant_id}/view/", "status": 302,
            "path": {"tenant_id": w["tenant"].pk}, "path_status": {"tenant_id": 404}, "base": {}},
        ("support:view-as-stop", "POST"): {"as": "staff", "url": "/support/view-as/stop/", "status": 302, "base": {}},
        ("support:payment-habit", "POST"): {  # the box unticked: nothing changes
            "as": "staff", "url": "/support/tenants/{tenant_id}/payments/habit/", "status": 302,
            "path": {"tenant_id": mca.tenant_id}, "path_status": {"tenant_id": 404},
            "base": {"billing_profile": mca.billing_profile_id, "payment_habit": "late", "payment_delay_days": "10",
                     "confirm": "", "reason": "Training: pays late", "next": "/support/"}},
        ("billing:settle", "POST"): {  # nothing is past due: even a valid post pays nothing
            "as": "admin", "url": "/billing/bills/settle/", "status": 302, "base": {}},
        ("users:manage-licenses", "POST"): {
            "as": "admin", "url": "/users/licenses/", "status": 302,
            "base": {"action": "assign", "users": [w["free"].upn], "subscription": std.pk,
                     "to_subscription": w["basic"].pk, "next": "/users/", "all": "", "reviewed": "",
                     "filter_subscription": "", "filter_q": "", "step": "", "backup_confirmed": "", "only": "",
                     "download": ""},
            "field_base": {
                # Replace's confirmation with every other field valid (a refusal re-renders the review: 200).
                "to_subscription": {"action": "replace", "users": [w["licensed"][0].upn]},
                "step": {"action": "replace", "users": [w["licensed"][0].upn], "to_subscription": w["basic"].pk},
                "backup_confirmed": {"action": "replace", "step": "confirm", "users": [w["licensed"][0].upn]},
                "next": {"action": "unassign"},
                "reviewed": {"action": "replace", "step": "confirm", "users": [w["licensed"][0].upn]},
                "filter_subscription": {"all": "1"}, "filter_q": {"all": "1"}},
            # A filter on nobody's subscription is the page's 404; a hostile step or backup confirmation shows
            # the review again (with the refusal), writing nothing.
            "field_status": {"filter_subscription": 404, "step": 200, "backup_confirmed": 200, "reviewed": 200}},
        ("users:active", "GET"): {
            "as": "admin", "url": "/users/", "status": 200,
            "base": {"q": "user", "subscription": std.pk, "users": [w["free"].upn], "pane": "licenses", "all": ""},
            "field_status": {"subscription": 404}},
        ("billing:purchase", "GET"): {  # the order's choices: a refused one is a 400 beside its field
            "as": "admin", "url": "/billing/purchase/", "status": 400,
            "base": {"sku": "SPB", "licenses": "5", "term": "P1Y", "billing_frequency": "monthly"},
            "field_status": {"sku": 404}},
        ("billing:purchase", "POST"): {  # Buy: a refused order is a 422 beside its field, nothing bought
            "as": "admin", "url": "/billing/purchase/", "status": 422,
            "base": {"sku": "O365_BUSINESS", "licenses": "5", "term": "P1Y", "billing_frequency": "monthly",
                     "payment_method": "new", "card_number": "4242 4242 4242 4242", "card_expiry": "12/30",
                     "card_name": "Alice Andersson", "order_token": "6f1c2a4e-8d3b-4c5a-9e7f-0a1b2c3d4e5f"}},
        ("billing:change-manually", "GET"): {
            "as": "admin", "url": "/billing/change-plans-manually/", "status": 400,
            "base": {"from": std.pk, "to": w["basic"].pk, "moving": "3"}},
        ("settings:api-tokens", "POST"): {  # a refused token is a 422 beside its field, nothing made
            "as": "admin", "url": "/settings/api-tokens/", "status": 422,
            "base": {"name": "Nightly report", "expiry": "date",
                     "expires_on": (timezone.now() + timedelta(days=30)).date().isoformat()}},
        ("settings:api-token-revoke", "POST"): {  # the token is revoked already: even a valid post writes nothing
            "as": "admin", "url": "/settings/api-tokens/{token_id}/revoke/", "status": 302,
            "path": {"token_id": w["revoked_token"].pk}, "path_status": {"token_id": 404},
            "base": {"confirm": "yes"}},
        ("settings:webhooks", "POST"): {
            "as": "admin", "url": "/settings/webhooks/", "status": 422,
            "base": {"url": "https://93.184.215.14/other-hook", "events": ["plan_change.completed"],
                     "description": "Tell the ERP"}},
        ("settings:webhook-test", "POST"): {
            "as": "admin", "url": "/settings/webhooks/{webhook_id}/test/", "status": 404,
            "path": {"webhook_id": w["webhook"].pk}, "base": {}},
        ("settings:webhook-resend", "POST"): {
            "as": "admin", "url": "/settings/webhooks/{webhook_id}/deliveries/{delivery_id}/resend/", "status": 404,
            "path": {"webhook_id": w["webhook"].pk, "delivery_id": w["delivery"].pk}, "base": {}},
        # An unticked confirmation: even the valid post deletes nothing.
        ("settings:webhook-delete", "POST"): {
            "as": "admin", "url": "/settings/webhooks/{webhook_id}/delete/", "status": 302,
            "path": {"webhook_id": w["webhook"].pk},  # the box unticked: asked for before the service looks
            "base": {"confirm": ""}},
    }


FORM_KEYS = ["login POST", "set_language POST", "logout POST", "billing:invoice-pay POST", "billing:addon-remove POST",
             "billing:addon-add POST",
             "planchange:cancel-change POST", "planchange:checkout POST", "planchange:change-option POST",
             "billing:cancel-subscription POST", "billing:licenses POST", "billing:recurring-billing POST", "billing:trial-extend POST",
             "billing:trial-purchase POST", "support:clock POST", "support:console GET", "support:tenants GET", "support:change-retry POST",
             "support:change-cancel POST", "support:credit-check POST", "support:incident-create POST",
             "support:incident-change POST", "support:provision POST", "support:view-as POST",
             "support:view-as-stop POST", "support:payment-habit POST", "billing:settle POST",
             "users:manage-licenses POST", "users:active GET",
             "billing:purchase GET", "billing:purchase POST", "billing:change-manually GET",
             "settings:api-tokens POST", "settings:api-token-revoke POST",
             "settings:webhooks POST", "settings:webhook-test POST", "settings:webhook-resend POST",
             "settings:webhook-delete POST"]
# A form carries text only: a list is the field given twice.
FORM_HOSTILE = [*TEXT_HOSTILE, "list"]


# Forms swept by tests of their own: the tenant import's upload (a file and its choices, which the import's API
# shares: tests/simulation/test_import_api.py sweeps hostile bodies and parameters, test_import_page.py the page).
FORMS_OWN_SWEEP = {("support:tenant-import", "POST")}


def test_the_table_names_every_form_and_field_of_the_templates():
    table = {tuple(key.split(" ")) for key in FORM_KEYS}
    in_templates = [form for form in template_forms() if form[:2] not in FORMS_OWN_SWEEP]
    assert {(name, method) for name, method, _field in in_templates} == table
    # Every field of every form is in its valid submission (so each gets its hostile values).
    missing = []
    for name, method, field in in_templates:
        if field is not None and field not in FORM_FIELDS[(name, method)]:
            missing.append((name, method, field))
    assert missing == []


FORM_FIELDS = {
    ("login", "POST"): {"username", "password", "next"},
    ("set_language", "POST"): {"language", "next"},
    ("logout", "POST"): set(),
    ("billing:invoice-pay", "POST"): {"next"},
    ("billing:addon-remove", "POST"): {"confirm"},
    ("billing:addon-add", "POST"): {"confirm"},
    ("planchange:cancel-change", "POST"): set(),
    ("planchange:checkout", "POST"): {"payment_method", "card_number", "card_expiry", "card_name", "quote_id", "term",
                                      "billing_frequency", "only", "download"},
    ("planchange:change-option", "POST"): {"target_sku", "licenses", "schedule", "term", "billing_frequency",
                                           "quote_id"},
    ("billing:cancel-subscription", "POST"): {"confirm"},
    ("billing:recurring-billing", "POST"): {"enabled"},
    ("billing:licenses", "POST"): {"action", "count"},
    ("billing:trial-extend", "POST"): set(),
    ("billing:trial-purchase", "POST"): set(),
    ("support:clock", "POST"): {"how", "value", "action"},
    ("support:console", "GET"): {"status", "page", "tenant", "older", "q"},
    ("support:tenants", "GET"): {"q"},
    ("support:change-retry", "POST"): {"confirm", "reason", "next"},
    ("support:change-cancel", "POST"): {"confirm", "reason", "next"},
    ("support:credit-check", "POST"): {"decision", "confirm", "reason", "next"},
    ("support:incident-create", "POST"): {"tenant", "service", "status", "title", "confirm", "reason", "next"},
    ("support:incident-change", "POST"): {"status", "confirm", "reason", "next"},
    ("support:provision", "POST"): {"confirm", "reason", "next"},
    ("support:view-as", "POST"): set(),
    ("support:view-as-stop", "POST"): set(),
    ("support:payment-habit", "POST"): {"billing_profile", "payment_habit", "payment_delay_days", "confirm", "reason",
                                        "next"},
    ("billing:settle", "POST"): set(),
    ("users:manage-licenses", "POST"): {"action", "users", "subscription", "to_subscription", "next", "all",
                                        "reviewed", "filter_subscription", "filter_q", "step", "backup_confirmed",
                                        "only", "download"},
    ("users:active", "GET"): {"q", "subscription", "users", "pane", "all"},
    ("billing:purchase", "GET"): {"sku", "licenses", "term", "billing_frequency"},
    ("billing:purchase", "POST"): {"sku", "licenses", "term", "billing_frequency", "payment_method", "card_number",
                                   "card_expiry", "card_name", "order_token"},
    ("billing:change-manually", "GET"): {"from", "to", "moving"},
    ("settings:api-tokens", "POST"): {"name", "expiry", "expires_on"},
    ("settings:api-token-revoke", "POST"): {"confirm"},
    ("settings:webhooks", "POST"): {"url", "events", "description"},
    ("settings:webhook-test", "POST"): set(),
    ("settings:webhook-resend", "POST"): set(),
    ("settings:webhook-delete", "POST"): {"confirm"},
}


def _form_value(value_name, valid):
    if value_name == "list":
        return ["٤", "²"]
    return str(HOSTILE[value_name](valid))


def page_cases(w, key):
    form = forms(w)[key]
    params = form.get("path", {})
    url = form["url"].format(**params)
    cases = []

    def add(target, value_name, expected, *, url=url, data=None, query=None, raw=None):
        cases.append({"target": target, "value": value_name, "expected": expected, "url": url, "data": data,
                      "query": query, "raw": raw})

    for name, real in params.items():
        for value_name in TEXT_HOSTILE:
            hostile = str(HOSTILE[value_name](real))
            if value_name == "nul":
                expected = 400
            elif name.endswith("_id") and parse_id(hostile) is None:
                expected = 404  # the <id:…> converter takes 1 to 2**63 - 1 in ASCII digits only
            else:  # an id in range that is nobody's, an unknown code: the page's 404 or the form's message
                expected = form.get("path_status", {}).get(name, form["status"])
            add(f"path.{name}", value_name, expected, url=form["url"].format(**{**params, name: quote(hostile, safe="")}),
                data=form["base"])
    add("query", "nul", 400, query={"q": "\x00"}, data=form["base"])
    add("body", "huge_body", 413, raw="x=" + "x" * TEN_MB)
    for field in sorted(FORM_FIELDS[key]):
        base = {**form["base"], **form.get("field_base", {}).get(field, {})}
        for value_name in FORM_HOSTILE:
            if value_name in NOT_HOSTILE.get(field, ()):
                OUTCOMES.append({"door": "page", "endpoint": f"{key[1]} {form['url']} ({key[0]})",
                                 "target": f"field.{field}", "value": value_name,
                                 "not_sent": "not hostile here: a valid value"})
                continue
            valid = base[field][0] if isinstance(base[field], list) else base[field]
            hostile = _form_value(value_name, valid)
            expected = 400 if value_name == "nul" else form.get("field_status", {}).get(field, form["status"])
            add(f"field.{field}", value_name, expected, data={**base, field: hostile})
    return cases


def _page_client(w, who) -> Client:
    client = Client(raise_request_exception=False)
    if who:
        client.force_login(w[who])
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("key", FORM_KEYS)
def test_every_form_refuses_every_hostile_value(world, key):
    name, method = key.split(" ")
    form = forms(world)[(name, method)]
    client = _page_client(world, form["as"])
    failures, after = [], fingerprint()
    for n, case in enumerate(page_cases(world, (name, method))):
        path = case["url"] + ("?" + urlencode(case["query"]) if case["query"] else "")
        before = after
        # Each case from its own address, so a sign-in lockout per user and address never starts.
        address = {"REMOTE_ADDR": f"10.1.{n // 250}.{n % 250 + 1}"}
        if case["raw"] is not None:
            response = client.generic(method, path, case["raw"], content_type="application/x-www-form-urlencoded",
                                      **address)
        elif method == "GET":  # a GET form's fields are its query string
            response = client.get(case["url"], {**(case["data"] or {}), **(case["query"] or {})}, **address)
        else:
            response = client.post(path, case["data"], **address)
        after = fingerprint()
        written = changes(before, after)
        outcome = {"door": "page", "endpoint": f"{method} {form['url']} ({name})", "target": case["target"],
                   "value": case["value"], "sent": _shown(case["raw"] or case["data"] or case["url"]),
                   "status": response.status_code, "location": response.get("Location"), "content_type": response.get("Content-Type"),
                   "written": sorted(written)}
        OUTCOMES.append(outcome)
        if response.status_code != case["expected"] or not set(written) <= form.get("writes", set()):
            failures.append({**outcome, "expected": case["expected"], "written": written})
    assert failures == [], _listed(failures)
