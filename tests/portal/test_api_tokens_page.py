"""Settings > API tokens in the browser: make a token (shown once), see the list with last use, revoke
with confirmation; in English and Swedish; hostile input is a 4xx that changes nothing."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from portal.models import ApiToken, Event
from portal.services import api_token_create
from tests.factories import LoginFactory, TenantFactory, admin_of
from tests.helpers import page_text

pytestmark = pytest.mark.django_db

URL = "/settings/api-tokens/"


@pytest.fixture
def admin(client):
    user = admin_of(TenantFactory(name="Contoso", domain="contoso.example"), "billing_admin")
    client.force_login(user)
    return user


def shown_token(response) -> str:
    found = re.search(r'id="new-token"[^>]*value="(pcp_[A-Za-z0-9]{48})"', response.content.decode())
    assert found, "the page shows no new token"
    return found.group(1)


def test_the_nav_has_settings_and_the_page_lists_nothing_yet(client, admin):
    page = client.get("/")
    assert 'href="/settings/api-tokens/"' in page.content.decode()
    response = client.get(URL)
    assert response.status_code == 200
    text = page_text(response)
    assert "Settings › API tokens" in text and "You have no API tokens yet." in text
    assert response["Cache-Control"] == "no-store"


def test_a_token_made_in_the_browser_is_shown_once_and_works(client, admin):
    response = client.post(URL, {"name": "Nightly report", "expiry": "90"})
    assert response.status_code == 200
    key = shown_token(response)
    assert "You won't be able to see it again" in page_text(response)
    assert response["Cache-Control"] == "no-store"
    token = ApiToken.objects.get(user=admin)
    assert token.name == "Nightly report"
    assert abs(token.expires_at - (timezone.now() + timedelta(days=90))) < timedelta(minutes=1)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/me/").status_code == 200
    again = client.get(URL)
    assert key not in again.content.decode() and key[:12] in again.content.decode()  # once; then its prefix only
    row = page_text(again)
    assert "Nightly report" in row and "Active" in row


def test_the_list_shows_last_use_expiry_and_status(client, admin):
    used, key = api_token_create(user=admin, name="Used one")
    api_token_create(user=admin, name="Never one", expires_at=timezone.now() + timedelta(days=30))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    api.get("/api/v1/me/")
    used.refresh_from_db()
    response = client.get(URL)
    rows = {m.group(1): page_text_of(m.group(2)) for m in re.finditer(
        r'<tr data-token="(\d+)">(.*?)</tr>', response.content.decode(), re.S)}
    assert used.last_used_at.strftime("%Y-%m-%d %H:%M") in rows[str(used.pk)]
    assert "No expiry" in rows[str(used.pk)]
    never = ApiToken.objects.get(name="Never one")
    assert "Never used" in rows[str(never.pk)] and never.expires_at.strftime("%Y-%m-%d") in rows[str(never.pk)]


def page_text_of(fragment: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment))


def test_a_date_expiry_and_refusals_beside_their_fields(client, admin):
    day = (timezone.now() + timedelta(days=10)).date()
    assert client.post(URL, {"name": "Dated", "expiry": "date", "expires_on": day.isoformat()}).status_code == 200
    assert ApiToken.objects.get(name="Dated").expires_at.date() == day
    count, events = ApiToken.objects.count(), Event.objects.count()
    today = timezone.now().date()
    cases = [
        ({"name": "x" * 101, "expiry": "30"}, "name-error", "at most 100 characters"),
        ({"name": "   ", "expiry": "30"}, "name-error", "Give the token a name."),
        ({"name": "evil\u202eexe", "expiry": "30"}, "name-error", "control characters"),
        ({"name": "ok", "expiry": "forever"}, "expiry-error", "Choose when the token expires."),
        ({"name": "ok", "expiry": "date", "expires_on": "2020-01-01"}, "expires-on-error", "in the future"),
        ({"name": "ok", "expiry": "date", "expires_on": today.isoformat()}, "expires-on-error", "in the future"),
        ({"name": "ok", "expiry": "date", "expires_on": (today + timedelta(days=400)).isoformat()},
         "expires-on-error", "at most a year"),
        ({"name": "ok", "expiry": "date", "expires_on": "٢٠٢٦-٠٧-٠١"}, "expires-on-error", "YYYY-MM-DD"),
        ({"name": "ok", "expiry": "date", "expires_on": "2026-02-30"}, "expires-on-error", "YYYY-MM-DD"),
        ({"name": ["a", "b"], "expiry": "30"}, "name-error", "one name"),
    ]
    for data, error, words in cases:
        response = client.post(URL, data)
        assert response.status_code == 422, data
        found = re.search(rf'data-testid="{error}">([^<]*)<', response.content.decode())
        assert found and words in found.group(1), (data, found and found.group(1))
        assert 'id="new-token"' not in response.content.decode()
    assert (ApiToken.objects.count(), Event.objects.count()) == (count, events)


def test_revoke_asks_for_confirmation_and_works_at_once(client, admin):
    token, key = api_token_create(user=admin, name="Old laptop")
    url = f"{URL}{token.pk}/revoke/"
    response = client.post(url, {}, follow=True)
    assert "Confirm that you want to revoke the token." in page_text(response)
    token.refresh_from_db()
    assert token.revoked_at is None
    response = client.post(url, {"confirm": "yes"}, follow=True)
    assert "The token “Old laptop” was revoked." in page_text(response)
    token.refresh_from_db()
    assert token.revoked_at is not None
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/me/").status_code == 401
    assert "Revoked" in page_text(client.get(URL))
    events = Event.objects.filter(verb="api_token.revoked").count()
    response = client.post(url, {"confirm": "yes"}, follow=True)
    assert "was already revoked" in page_text(response)
    assert Event.objects.filter(verb="api_token.revoked").count() == events


def test_another_logins_token_and_bad_ids_are_404(client, admin):
    theirs, _ = api_token_create(user=admin_of(TenantFactory()), name="Theirs")
    assert client.post(f"{URL}{theirs.pk}/revoke/", {"confirm": "yes"}).status_code == 404
    assert client.post(f"{URL}999999/revoke/", {"confirm": "yes"}).status_code == 404
    assert client.post(f"{URL}abc/revoke/", {"confirm": "yes"}).status_code == 404
    assert client.post(f"{URL}{2**63}/revoke/", {"confirm": "yes"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert "Theirs" not in page_text(client.get(URL))


def test_the_page_in_swedish(client, admin):
    api_token_create(user=admin, name="Nattlig rapport")
    response = client.get(URL, HTTP_ACCEPT_LANGUAGE="sv")
    text = page_text(response)
    assert "Inställningar › API-token" in text
    for swedish in ("Dina token", "Skapa en token", "Senast använd", "Går ut", "Aldrig använd", "Återkalla"):
        assert swedish in text, swedish
    made = client.post(URL, {"name": "CI", "expiry": "never"}, HTTP_ACCEPT_LANGUAGE="sv")
    assert "Kopiera den här token nu" in page_text(made)
    refused = client.post(URL, {"name": "", "expiry": "30"}, HTTP_ACCEPT_LANGUAGE="sv")
    assert "Ge token ett namn." in page_text(refused)


def test_support_staff_get_the_page_for_their_own_tokens(client):
    staff = LoginFactory(is_staff=True)
    client.force_login(staff)
    response = client.get(URL)
    assert response.status_code == 200
    assert 'href="/settings/api-tokens/"' in response.content.decode()
    key = shown_token(client.post(URL, {"name": "Support scripts", "expiry": "30"}))
    assert ApiToken.objects.get(user=staff).digest != key
    nobody = LoginFactory()
    client.force_login(nobody)
    assert client.get(URL).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client, db):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


# --- Found by probing (probe1) ---------------------------------------------------------------------


def test_every_refusal_shows_at_once_and_an_empty_date_asks_for_one(client, admin):
    """A blank name and a missing date showed only the date's error; fixing it revealed the name's.
    And an empty date said "Enter the expiry date as YYYY-MM-DD" beside a picker showing mm/dd/yyyy."""
    count, events = ApiToken.objects.count(), Event.objects.count()
    response = client.post(URL, {"name": "   ", "expiry": "date", "expires_on": ""})
    assert response.status_code == 422
    html = response.content.decode()
    assert re.search(r'data-testid="name-error">Give the token a name\.<', html)
    assert re.search(r'data-testid="expires-on-error">Choose the expiry date\.<', html)
    both = client.post(URL, {"name": "x" * 101, "expiry": "forever"}).content.decode()
    assert 'data-testid="name-error"' in both and 'data-testid="expiry-error"' in both
    swedish = page_text(client.post(URL, {"name": "ok", "expiry": "date", "expires_on": ""},
                                    HTTP_ACCEPT_LANGUAGE="sv"))
    assert "Välj utgångsdatumet." in swedish
    assert (ApiToken.objects.count(), Event.objects.count()) == (count, events)


def test_the_tokens_name_is_quoted_where_a_sentence_names_it(client, admin):
    """"Your new token Nightly report" read as one run-on phrase; a name is quoted, in Swedish too."""
    made = client.post(URL, {"name": "Nightly report", "expiry": "30"})
    assert "Your new token “Nightly report”" in page_text(made)
    assert "I want to revoke the token “Nightly report”." in page_text(made)
    made = client.post(URL, {"name": "Nattlig rapport", "expiry": "30"}, HTTP_ACCEPT_LANGUAGE="sv")
    assert "Din nya token ”Nattlig rapport”" in page_text(made)
