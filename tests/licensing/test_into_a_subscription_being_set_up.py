"""Step 2 of the article's manual path: both subscriptions must be Active, and one still being set up
isn't yet. Assign and Replace into it are refused (422 ``subscription_not_provisioned``, saying when it
is ready), on the page and through the API, and nothing moves; once set up, the same request works."""

from datetime import UTC, datetime

import pytest
from rest_framework.test import APIClient

from billing.models import Subscription
from licensing.models import LicenseAssignment
from portal.models import Event
from tests.factories import (
    DirectoryUserFactory,
    LicenseFactory,
    SubscriptionFactory,
    TenantFactory,
    admin_of,
    product,
    token_for,
)
from tests.helpers import page_text, reviewed

pytestmark = pytest.mark.django_db

READY = datetime(2026, 6, 15, 12, 5, tzinfo=UTC)


@pytest.fixture
def setting_up(at_date):
    at_date("2026-06-15")
    tenant = TenantFactory(domain="contoso.example")
    std = SubscriptionFactory(tenant=tenant, licenses=3)
    spb = SubscriptionFactory(tenant=tenant, product=product("SPB"), licenses=3,
                              provisioning=Subscription.Provisioning.PROVISIONING, provisioning_until=READY)
    licensed = LicenseFactory(subscription=std).user
    free = DirectoryUserFactory(tenant=tenant)
    return tenant, std, spb, licensed, free


def _api(tenant) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(admin_of(tenant))}")
    return api


def test_the_api_refuses_assign_and_replace_into_it_and_nothing_moves(setting_up):
    tenant, std, spb, licensed, free = setting_up
    api = _api(tenant)
    before = (list(LicenseAssignment.objects.values_list("pk", "subscription_id")), Event.objects.count())
    assign = api.post("/api/v1/licenses/assign/", {"users": [free.upn], "subscription": spb.pk}, format="json")
    assert assign.status_code == 422
    assert assign.json()["code"] == "subscription_not_provisioned"
    assert assign.json()["detail"] == ("Microsoft 365 Business Premium is still being set up: its licenses can be "
                                       "assigned once it is ready, by 2026-06-15 12:05 UTC (simulation time). "
                                       "Nothing was changed.")
    replace = api.post("/api/v1/licenses/replace/", {"users": [licensed.upn], "from_subscription": std.pk,
                                                     "to_subscription": spb.pk}, format="json")
    assert (replace.status_code, replace.json()["code"]) == (422, "subscription_not_provisioned")
    assert (list(LicenseAssignment.objects.values_list("pk", "subscription_id")), Event.objects.count()) == before
    # Set up: the same Replace moves the user.
    Subscription.objects.filter(pk=spb.pk).update(provisioning=Subscription.Provisioning.PROVISIONED,
                                                  provisioning_until=None)
    moved = api.post("/api/v1/licenses/replace/", {"users": [licensed.upn], "from_subscription": std.pk,
                                                   "to_subscription": spb.pk}, format="json")
    assert moved.status_code == 200, moved.json()
    assert list(licensed.licenses.values_list("subscription_id", flat=True)) == [spb.pk]


def test_the_page_refuses_replace_into_it_beside_the_form_in_both_languages(client, setting_up):
    tenant, std, spb, licensed, free = setting_up
    client.force_login(admin_of(tenant))
    body = {"action": "replace", "subscription": std.pk, "to_subscription": spb.pk, "users": [licensed.upn]}
    review = client.post("/users/licenses/", body)
    done = client.post("/users/licenses/", {**body, "step": "confirm", "reviewed": reviewed(review)}, follow=True)
    assert ("Microsoft 365 Business Premium is still being set up: its licenses can be assigned once it is ready, "
            "by 2026-06-15 12:05 UTC (simulation time). Nothing was changed.") in page_text(done)
    assign = client.post("/users/licenses/", {"action": "assign", "subscription": spb.pk, "users": [free.upn]},
                         follow=True, HTTP_ACCEPT_LANGUAGE="sv")
    assert ("Microsoft 365 Business Premium håller fortfarande på att konfigureras: dess licenser kan tilldelas "
            "när den är klar, senast 2026-06-15 12:05 UTC (simuleringstid). Inget ändrades.") in page_text(assign)
    assert list(licensed.licenses.values_list("subscription_id", flat=True)) == [std.pk]
    assert not free.licenses.exists()
