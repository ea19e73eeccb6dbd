import pytest

from billing.models import PaymentMethod
from billing.services import payment_method_add_card
from planchange.models import PlanChange
from portal.errors import DomainError
from portal.models import Event
from tests.factories import TenantFactory, admin_of, mosa_standard, token_for
from tests.helpers import page_text

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


UNICODE_DIGIT_CARDS = [
    # isdigit() takes these; int() refuses the superscript (a 500) and takes the Arabic-Indic digits.
    ("4242 4242 4242 424²", "12/27", {"number": "Enter a card number of 12 to 19 digits."}),
    ("٤٢٤٢ ٤٢٤٢ ٤٢٤٢ ٤٢٤٢", "12/27", {"number": "Enter a card number of 12 to 19 digits."}),
    ("4242424242424242", "12/2²", {"expiry": "Enter the expiry date as MM/YY."}),
    ("4242424242424242", "١٢/٢٧", {"expiry": "Enter the expiry date as MM/YY."}),
]


@pytest.mark.parametrize(("number", "expiry", "errors"), UNICODE_DIGIT_CARDS)
def test_unicode_digits_in_a_card_are_refused_through_the_api(api, at_date, number, expiry, errors):
    at_date("2026-06-15")
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(admin_of(TenantFactory()))}")
    response = api.post("/api/v1/payment-methods/", {"number": number, "expiry": expiry, "holder_name": "A"},
                        format="json")
    assert (response.status_code, response["Content-Type"]) == (422, "application/problem+json")
    assert (response.json()["code"], response.json()["errors"]) == ("invalid_card", errors)
    assert (PaymentMethod.objects.count(), Event.objects.count()) == (0, 0)


@pytest.mark.parametrize(("number", "expiry", "errors"), UNICODE_DIGIT_CARDS)
def test_unicode_digits_in_a_card_are_refused_at_checkout(client, at_date, number, expiry, errors):
    at_date("2026-06-16")
    tenant, _card, std, _users = mosa_standard()
    client.force_login(admin_of(tenant))
    response = client.post(f"/billing/products/{std.pk}/upgrades/SPB/checkout/", {
        "payment_method": "new", "card_number": number, "card_expiry": expiry, "card_name": "Alice"})
    assert response.status_code == 200
    (message,) = errors.values()
    assert message in page_text(response)
    assert (PaymentMethod.objects.count(), PlanChange.objects.count()) == (1, 0)


def test_a_bidi_override_in_the_name_on_the_card_is_refused(at_date):
    at_date("2026-06-15")
    with pytest.raises(DomainError) as exc:
        payment_method_add_card(tenant=TenantFactory(), number="4242424242424242", expiry="12/27",
                                holder_name="Alice \u202eecilA", actor="a")
    assert {k: str(v) for k, v in exc.value.extra["errors"].items()} == {
        "holder_name": "The name can't contain control characters or text-direction overrides."}
