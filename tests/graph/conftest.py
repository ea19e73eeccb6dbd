"""Graph tests: a tenant with SKUs and users, a client with a Bearer token, and every answer parsed with the
Microsoft Graph SDK's own models, refusing any field the SDK would drop (it keeps those in additional_data)."""

import pytest
from kiota_abstractions.serialization import Parsable
from kiota_serialization_json.json_parse_node_factory import JsonParseNodeFactory
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from rest_framework.test import APIClient

from tests.factories import (
    DirectoryUserFactory,
    LicenseFactory,
    SubscriptionFactory,
    TenantFactory,
    admin_of,
    product,
    token_for,
)

BASE = "/graph/v1.0"
BASIC, STANDARD = "3b555118-da6a-4418-894f-7df1e2096870", "f245ecc8-75af-4f8e-b61f-27d8114de5f3"
PREMIUM = "cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46"
YAMMER, FORMS_E1 = "7547a3fe-08ee-4ccb-b430-5077c5041653", "159f4cd6-e380-449f-a816-af1a9ef76344"
# The collection's context: a collection model has no field for it.
ALLOWED_EXTRA = {"@odata.context"}


def _dropped(obj, path="") -> list[str]:
    extra = [f"{path}.{k}" for k in (getattr(obj, "additional_data", None) or {}) if k not in ALLOWED_EXTRA]
    for name, value in vars(obj).items():
        items = value if isinstance(value, list) else [value]
        for i, item in enumerate(items):
            if isinstance(item, Parsable) and item is not obj:
                extra += _dropped(item, f"{path}.{name}[{i}]" if isinstance(value, list) else f"{path}.{name}")
    return extra


def sdk(model, response):
    """The answer as the SDK's ``model`` parses it; fails on any field the SDK doesn't know."""
    node = JsonParseNodeFactory().get_root_parse_node("application/json", response.content)
    parsed = node.get_object_value(model)
    assert _dropped(parsed) == [], f"fields the SDK drops: {_dropped(parsed)}"
    return parsed


def graph_error(response, status: int, code: str):
    """The refusal, parsed as the SDK's ODataError: its status, code and innerError."""
    assert response.status_code == status, response.content
    error = sdk(ODataError, response).error
    assert error.code == code, error.message
    assert error.inner_error.request_id and error.inner_error.client_request_id and error.inner_error.date
    assert response["request-id"] == error.inner_error.request_id
    return error.message


def graph_client(tenant, role="global_admin"):
    admin = admin_of(tenant, role)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(admin)}")
    api.username = admin.username
    return api


@pytest.fixture
def world(at_date):
    """Contoso: Business Basic (5 licenses, 3 users), Business Standard (4 licenses, 2 users), 1 user unlicensed."""
    at_date("2026-06-15")
    tenant = TenantFactory(name="Contoso", domain="contoso.example")
    basic = SubscriptionFactory(tenant=tenant, product=product("O365_BUSINESS_ESSENTIALS"), licenses=5)
    standard = SubscriptionFactory(tenant=tenant, product=product("O365_BUSINESS_PREMIUM"), licenses=4)
    users = {name: DirectoryUserFactory(tenant=tenant, upn=f"{name}@contoso.example", display_name=name.title(),
                                        usage_location="SE")
             for name in ("anna", "bo", "cia", "dan", "eva", "fred")}
    LicenseFactory(subscription=basic, user=users["anna"], disabled_plans=["YAMMER_ENTERPRISE"])
    LicenseFactory(subscription=basic, user=users["bo"])
    LicenseFactory(subscription=basic, user=users["cia"])
    LicenseFactory(subscription=standard, user=users["dan"])
    LicenseFactory(subscription=standard, user=users["eva"], disabled_plans=["FORMS_PLAN_E1"])
    return tenant, basic, standard, users
