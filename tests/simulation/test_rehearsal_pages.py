"""The rehearsal on the imported tenant's own pages: "Each user" on Checkout (and the MCA pane) and on Replace
can be narrowed (each row says what it is) and downloaded as CSV, every user, in the reader's language."""

import csv
import io

import pytest
from django.contrib.auth import get_user_model

from billing.models import Subscription
from licensing.models import DirectoryUser
from simulation.imports.convert import Choices
from simulation.imports.service import tenant_import
from tests.helpers import page_text
from tests.simulation.conftest import raw
from tests.simulation.tenants import DOMAIN

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(exported, client):
    """The imported tenant's admin signed in; Business Basic has bought the licenses its four users need."""
    data = exported[0]
    basic = next(s for s in data["directory/subscriptions"]["value"] if s["skuPartNumber"] == "O365_BUSINESS_ESSENTIALS")
    basic["totalLicenses"] = 5
    result = tenant_import(actor="support@portal.local", raw=raw(data), choices=Choices())
    client.force_login(get_user_model().objects.get(username=result.admin))
    return client


def rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_checkout_each_user_is_filterable_and_downloads_every_user(admin_client):
    basic = Subscription.objects.get(tenant__domain=DOMAIN, product__sku="O365_BUSINESS_ESSENTIALS")
    page = admin_client.get(f"/billing/products/{basic.pk}/upgrades/SPB/checkout/")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-upn="cia@rehearsal.example" data-gains="1" data-losses="" data-data_lost="" data-settings_reset="1"' \
        in body
    assert "Download as CSV (every user)" in page_text(page)
    link = f"/billing/products/{basic.pk}/users.csv?target_sku=SPB&amp;term=P1Y&amp;billing_frequency=monthly"
    assert f'href="{link}"' in body
    download = admin_client.get(link.replace("&amp;", "&") + "&only=settings_reset")
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    assert [r[0] for r in rows(download)] == ["user_principal_name", "anna@rehearsal.example",
                                              "cia@rehearsal.example"]


def test_replace_downloads_its_review_as_csv(admin_client):
    basic = Subscription.objects.get(tenant__domain=DOMAIN, product__sku="O365_BUSINESS_ESSENTIALS")
    std = Subscription.objects.get(tenant__domain=DOMAIN, product__sku="O365_BUSINESS_PREMIUM")
    form = {"action": "replace", "subscription": basic.pk, "to_subscription": std.pk, "all": "",
            "users": ["anna@rehearsal.example", "bo@rehearsal.example"]}
    review = admin_client.post("/users/licenses/", form)
    assert 'name="download" value="csv"' in review.content.decode()
    download = admin_client.post("/users/licenses/", {**form, "step": "confirm", "download": "csv", "only": ""})
    assert download["Content-Disposition"] == 'attachment; filename="replace-users.csv"'
    assert [r[:3] for r in rows(download)[1:]] == [
        ["anna@rehearsal.example", "Microsoft 365 Business Basic", "Microsoft 365 Business Standard"],
        ["bo@rehearsal.example", "Microsoft 365 Business Basic", "Microsoft 365 Business Standard"]]
    assert DirectoryUser.objects.get(upn="anna@rehearsal.example").licenses.get().subscription == basic


def test_in_swedish(admin_client):
    basic = Subscription.objects.get(tenant__domain=DOMAIN, product__sku="O365_BUSINESS_ESSENTIALS")
    page = admin_client.get(f"/billing/products/{basic.pk}/upgrades/SPB/checkout/", HTTP_ACCEPT_LANGUAGE="sv")
    text = page_text(page)
    assert "Ladda ned som CSV (alla användare)" in text and "användare vars inställningar återställs" in text


def test_the_mca_pane_has_the_filter_and_the_download_too(exported, client):
    data = exported[0]
    basic = next(s for s in data["directory/subscriptions"]["value"] if s["skuPartNumber"] == "O365_BUSINESS_ESSENTIALS")
    basic["totalLicenses"] = 5
    result = tenant_import(actor="support@portal.local", raw=raw(data), choices=Choices(agreement="MCA"))
    client.force_login(get_user_model().objects.get(username=result.admin))
    sub = Subscription.objects.get(tenant__domain=DOMAIN, product__sku="O365_BUSINESS_ESSENTIALS")
    pane = client.get(f"/billing/products/{sub.pk}/change/", {"target_sku": "SPB"})
    body = pane.content.decode()
    assert 'data-testid="user-changes-filter"' in body
    link = f"/billing/products/{sub.pk}/users.csv?target_sku=SPB&amp;term=P1Y&amp;billing_frequency=monthly"
    assert f'href="{link}"' in body
    download = client.get(link.replace("&amp;", "&") + "&only=losses")
    assert rows(download) == [["user_principal_name", "from", "to", "services_gained", "services_lost",
                               "turned_back_on", "data_lost"]]  # nobody loses a service going up to Premium
    assert client.get(link.replace("&amp;", "&") + "&only=nonsense").status_code == 404
