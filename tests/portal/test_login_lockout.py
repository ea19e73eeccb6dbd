"""Login lockout (django-axes): per username and client address, with a cool-off, through
the real sign-in pages — the portal's and the Django admin's."""

import time
from datetime import timedelta

import pytest

from tests.factories import LoginFactory
from tests.helpers import page_text

pytestmark = pytest.mark.django_db

ATTACKER, OTHER_ADDRESS = "203.0.113.9", "198.51.100.7"
WRONG_PASSWORD = "Please enter a correct username and password. Note that both fields may be case-sensitive."
LOCKED = ("Too many failed sign-in attempts for this account from your address. Try again in 15 minutes.")
LOCKED_SV = ("För många misslyckade inloggningsförsök för det här kontot från din adress. "
             "Försök igen om 15 minuter.")


@pytest.fixture(autouse=True)
def _lockout(settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)


@pytest.fixture
def alice(db):
    return LoginFactory(username="alice@contoso.com", password="Alice-right-2026")


def sign_in(client, username, password, address=ATTACKER, path="/login/", **extra):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address, **extra)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_after_the_failure_limit_even_the_right_password_is_refused(client, alice):
    answers = [sign_in(client, "alice@contoso.com", "wrong") for _ in range(3)]
    assert [r.status_code for r in answers] == [200, 200, 429]
    assert WRONG_PASSWORD in page_text(answers[0]) and LOCKED not in page_text(answers[0])
    assert LOCKED in page_text(answers[2]) and WRONG_PASSWORD not in page_text(answers[2])

    right = sign_in(client, "alice@contoso.com", "Alice-right-2026")
    assert right.status_code == 429
    assert LOCKED in page_text(right)
    assert 'value="alice@contoso.com"' in right.content.decode()  # the form is there again, username kept
    assert not signed_in(client)


def test_other_users_and_other_addresses_are_unaffected(client, alice):
    bob = LoginFactory(username="bob@contoso.com", password="Bob-right-2026")
    for _ in range(3):
        sign_in(client, alice.username, "wrong")
    response = sign_in(client, bob.username, "Bob-right-2026")  # another user, same address
    assert (response.status_code, response.url, signed_in(client)) == (302, "/", True)
    client.post("/logout/")
    response = sign_in(client, alice.username, "Alice-right-2026", address=OTHER_ADDRESS)  # same user elsewhere
    assert (response.status_code, response.url, signed_in(client)) == (302, "/", True)


def test_the_lockout_message_is_in_the_users_language(client, alice):
    for _ in range(3):
        response = sign_in(client, alice.username, "wrong", HTTP_ACCEPT_LANGUAGE="sv-SE,sv;q=0.9")
    assert response.status_code == 429
    assert LOCKED_SV in page_text(response)
    assert "Logga in" in page_text(response)


def test_the_right_password_works_again_after_the_cool_off(client, alice, settings):
    settings.AXES_COOLOFF_TIME = timedelta(seconds=2)
    for _ in range(3):
        sign_in(client, alice.username, "wrong")
    locked = sign_in(client, alice.username, "Alice-right-2026")  # refused, and the cool-off starts again
    assert locked.status_code == 429
    assert "Try again in 1 minute." in page_text(locked)
    time.sleep(2.2)
    response = sign_in(client, alice.username, "Alice-right-2026")
    assert (response.status_code, response.url, signed_in(client)) == (302, "/", True)


def test_a_successful_sign_in_clears_the_failures(client, alice):
    for _ in range(2):
        sign_in(client, alice.username, "wrong")
    assert sign_in(client, alice.username, "Alice-right-2026").status_code == 302
    client.post("/logout/")
    assert [sign_in(client, alice.username, "wrong").status_code for _ in range(2)] == [200, 200]


def test_the_django_admin_login_is_locked_too_and_shares_the_count(client, alice):
    alice.is_staff = True
    alice.save()
    admin = "/django-admin/login/?next=/django-admin/"
    answers = [sign_in(client, alice.username, "wrong", path=admin) for _ in range(2)]
    assert [r.status_code for r in answers] == [200, 200]
    third = sign_in(client, alice.username, "wrong")  # the portal's page: the same username and address
    assert third.status_code == 429
    right = sign_in(client, alice.username, "Alice-right-2026", path=admin)
    assert right.status_code == 429
    assert LOCKED in page_text(right)
    assert not signed_in(client)
    assert client.get("/django-admin/").status_code == 302  # still the admin's login


def test_a_forwarded_for_header_does_not_make_a_new_address(client, alice):
    """With no trusted proxy (PORTAL_PROXY_COUNT=0) the address is REMOTE_ADDR."""
    for n in range(3):
        sign_in(client, alice.username, "wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    response = sign_in(client, alice.username, "Alice-right-2026", HTTP_X_FORWARDED_FOR="192.0.2.200")
    assert response.status_code == 429


@pytest.mark.parametrize("path", ["/login/", "/django-admin/login/"])
def test_a_username_longer_than_any_login_is_a_wrong_sign_in_not_a_500(client, path):
    """Django's form checked no length, and the lockout's record of the attempt holds 255 characters:
    a 500 on PostgreSQL. Now it is refused like any wrong sign-in, and not counted."""
    from axes.models import AccessAttempt

    response = client.post(path, {"username": "a" * 300, "password": "whatever"}, REMOTE_ADDR="10.9.9.9")
    assert response.status_code == 200
    assert "correct username and password" in page_text(response)
    assert AccessAttempt.objects.count() == 0
