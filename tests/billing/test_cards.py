import pytest

from billing.models import PaymentMethod
from billing.services import payment_method_add_card
from portal.errors import DomainError
from tests.factories import TenantFactory

pytestmark = pytest.mark.django_db


def test_a_valid_card_keeps_only_its_last_four_digits(at_date):
    at_date("2026-06-15")
    tenant = TenantFactory()
    method = payment_method_add_card(tenant=tenant, number="4242 4242 4242 4242", expiry="06/26",
                                     holder_name="Alice Andersson", actor="a")
    assert (method.kind, method.last4, method.expiry_month, method.expiry_year, method.is_default) == (
        "card", "4242", 6, 2026, True)
    stored = PaymentMethod.objects.filter(pk=method.pk).values().get()
    assert "4242424242424242" not in str(stored)


@pytest.mark.parametrize(("number", "expiry", "name", "errors"), [
    ("4242 4242 4242 4241", "12/27", "A", {"number": "This card number isn't valid. Check it and try again."}),
    ("1234", "12/27", "A", {"number": "Enter a card number of 12 to 19 digits."}),
    ("4242x", "12/27", "A", {"number": "Enter a card number of 12 to 19 digits."}),
    ("4242424242424242", "05/26", "A", {"expiry": "This card has expired."}),
    ("4242424242424242", "13/27", "A", {"expiry": "Enter the expiry date as MM/YY."}),
    ("4242424242424242", "1227", "A", {"expiry": "Enter the expiry date as MM/YY."}),
    ("4242424242424242", "12/27", "  ", {"holder_name": "Enter the name on the card."}),
])
def test_a_bad_card_is_refused_naming_the_field(at_date, number, expiry, name, errors):
    at_date("2026-06-15")
    tenant = TenantFactory()
    with pytest.raises(DomainError) as exc:
        payment_method_add_card(tenant=tenant, number=number, expiry=expiry, holder_name=name, actor="a")
    assert {k: str(v) for k, v in exc.value.extra["errors"].items()} == errors
    assert PaymentMethod.objects.count() == 0
