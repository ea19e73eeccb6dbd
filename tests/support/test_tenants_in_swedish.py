"""Support's Organizations page in Swedish: a past-due invoice's date is its due date ("förfallodag"), not a date it
is still to fall due on ("förfaller", UI review)."""

from datetime import date
from decimal import Decimal

import pytest

from portal import clock
from tests.factories import InvoiceFactory, LoginFactory, TenantFactory
from tests.helpers import page_text

pytestmark = pytest.mark.django_db


def test_a_past_due_invoice_reads_with_its_due_date(client):
    clock.set_date(date(2026, 6, 15))
    tenant = TenantFactory(domain="owing.example")
    InvoiceFactory(tenant=tenant, number="OWE-1", date=date(2026, 5, 1), due_date=date(2026, 5, 31),
                   total=Decimal("100.00"))
    client.force_login(LoginFactory(is_staff=True))
    page = page_text(client.get("/support/tenants/", HTTP_ACCEPT_LANGUAGE="sv"))
    assert "Förfallen Faktura OWE-1: 100,00 US$, förfallodag 2026-05-31" in page
