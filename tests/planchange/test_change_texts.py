"""What a plan change says about itself is shown in the reader's language: why it failed or was
cancelled (kept as a text and its params beside the English detail the API answers), its activity
(its audit events), and the sentences that once put a lowercased status or a raw code into Swedish."""

import pytest
from django.urls import reverse

from billing.models import Subscription
from planchange import workflow
from planchange.services import plan_change_cancel, plan_change_request
from tests.factories import (
    BillingProfileFactory,
    LicenseFactory,
    SubscriptionFactory,
    admin_of,
    mosa_standard,
    product,
    token_for,
)
from tests.helpers import page_text

pytestmark = pytest.mark.django_db


def _page(client, url, language="sv") -> str:
    return page_text(client.get(url, HTTP_ACCEPT_LANGUAGE=language))


@pytest.fixture
def contoso(at_date):
    at_date("2026-06-16")
    tenant, _card, std, users = mosa_standard(users=22)
    return tenant, admin_of(tenant), std


def test_a_change_that_fails_on_its_inputs_says_why_in_swedish_and_keeps_english_for_the_api(client, api, contoso):
    tenant, admin, std = contoso
    change = plan_change_request(tenant=tenant, user=admin, subscription_id=std.pk, target_sku="SPB", licenses=22)
    LicenseFactory(subscription=std)  # a 23rd user before the worker validates it
    assert workflow.run(change.pk) == "failed"
    change.refresh_from_db()
    english = ("23 users have licenses on the current plan; the new plan needs at least 23 licenses, not 22.")
    assert (change.error_code, change.error_detail, change.error_text, change.error_params) == (
        "licenses_too_few", english, "error.licenses_too_few", {"users": 23, "licenses": 22})
    swedish = ("23 användare har licenser för den nuvarande planen; den nya planen behöver minst 23 licenser, "
               "inte 22.")
    client.force_login(admin)
    for url in (reverse("planchange:change", args=[change.pk]), reverse("planchange:subscription", args=[std.pk]),
                reverse("home")):
        assert swedish in _page(client, url), url
        assert english in _page(client, url, "en"), url
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(admin)}")
    body = api.get(f"/api/v1/plan-changes/{change.pk}/", HTTP_ACCEPT_LANGUAGE="sv").json()
    assert body["error"] == {"code": "licenses_too_few", "detail": english}


def test_the_progress_page_lists_the_changes_activity_in_the_readers_language(client, contoso):
    tenant, admin, std = contoso
    change = plan_change_request(tenant=tenant, user=admin, subscription_id=std.pk, target_sku="SPB")
    assert workflow.run(change.pk) == "completed"
    client.force_login(admin)
    swedish = _page(client, reverse("planchange:change", args=[change.pk]))
    for text in ("Aktivitet", "Planändringen begärdes, med 25 licenser, och gäller från nu.",
                 "Kontrollerad: inget hindrar ändringen; den gäller från 2026-06-16.",
                 "Den nya prenumerationen är konfigurerad.", "Licenserna flyttades: 22 användare har den nya planen.",
                 "Fakturerad: den nya planens första period debiteras och 164,13 US$ krediteras för de oanvända dagarna.",
                 "Den gamla prenumerationen är avbruten.", "Ändringen är slutförd."):
        assert text in swedish, text
    assert admin.username in swedish  # who asked for it
    english = _page(client, reverse("planchange:change-progress", args=[change.pk]), "en")
    assert "Plan change requested, with 25 licenses, to take effect now." in english
    assert "Licenses moved: 22 users have the new plan." in english


def test_a_cancelled_scheduled_change_says_who_cancelled_it_in_swedish(client, at_date):
    at_date("2026-06-15")
    profile = BillingProfileFactory(tenant__domain="mca.example")
    sub = SubscriptionFactory(tenant=profile.tenant, billing_profile=profile, payment="invoice", payment_method=None)
    admin = admin_of(profile.tenant)
    change = plan_change_request(tenant=profile.tenant, user=admin, subscription_id=sub.pk, target_sku="SPB",
                                 schedule="renewal")
    plan_change_cancel(tenant=profile.tenant, change_id=change.pk, actor=admin.username)
    change.refresh_from_db()
    assert (change.error_detail, change.error_text) == ("cancelled by an admin", "cancelled.by_admin")
    client.force_login(admin)
    swedish = _page(client, reverse("planchange:change", args=[change.pk]))
    assert "En administratör avbröt ändringen som var schemalagd till 2027-01-01." in swedish
    assert "Planändringen schemalades till förnyelsen 2027-01-01, med 25 licenser." in swedish


def test_an_expired_subscription_is_said_to_have_expired_in_a_swedish_sentence(client, at_date):
    at_date("2026-06-15")
    tenant, _card, std, _users = mosa_standard()
    Subscription.objects.filter(pk=std.pk).update(status="expired")
    client.force_login(admin_of(tenant))
    swedish = _page(client, reverse("planchange:subscription", args=[std.pk]))
    assert "Prenumerationen har upphört." in swedish
    assert "är har upphört" not in swedish and "status är" not in swedish


def test_an_offer_not_sold_names_the_length_and_the_billing_in_swedish_words(client, at_date):
    at_date("2026-06-15")
    profile = BillingProfileFactory(tenant__domain="mca.example")
    sub = SubscriptionFactory(tenant=profile.tenant, billing_profile=profile, payment="invoice", payment_method=None,
                              product=product("O365_BUSINESS_ESSENTIALS"))
    client.force_login(admin_of(profile.tenant))
    pane = _page(client, reverse("planchange:change-option", args=[sub.pk])
                 + "?target_sku=SPB&term=P1M&billing_frequency=annual")
    assert "Microsoft 365 Business Premium säljs inte för 1 månad med årsvis fakturering." in pane
    assert "annual" not in pane and "P1M med" not in pane


def test_one_license_and_one_user_are_singular_wherever_they_are_counted(client, at_date):
    at_date("2026-06-16")
    tenant, _card, std, _users = mosa_standard(licenses=1, users=1)
    client.force_login(admin_of(tenant))
    pages = {
        reverse("planchange:subscription", args=[std.pk]): ("1 av 1 licens tilldelad", "1 of 1 license assigned"),
        reverse("planchange:upgrades", args=[std.pk]): ("med 1 licens. Alla användare", "with 1 license. All users"),
        reverse("planchange:checkout", args=[std.pk, "SPB"]): ("Microsoft 365 Business Premium — 1 licens,",
                                                                "Microsoft 365 Business Premium — 1 license,"),
        reverse("users:active") + f"?subscription={std.pk}": ("1 av 1 licens tilldelad.", "1 of 1 license assigned."),
        reverse("users:active") + "?q=user": ("Sida 1 av 1 (1 användare)", "Page 1 of 1 (1 user)"),
    }
    for url, (swedish, english) in pages.items():
        assert swedish in _page(client, url), url
        assert english in _page(client, url, "en"), url
