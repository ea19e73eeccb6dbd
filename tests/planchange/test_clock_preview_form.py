"""The support console's clock preview: the form keeps what was typed (after a preview and after a refusal),
and the preview's date column doesn't wrap."""

import re

import pytest

from tests.factories import LoginFactory, mosa_standard

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, at_date):
    at_date("2026-06-15")
    mosa_standard(users=1)
    client.force_login(LoginFactory(is_staff=True, username="support@portal.local"))


def _form(html: str) -> tuple[str, str]:
    """(the chosen way, the typed value) of the clock form as drawn."""
    how = re.search(r'<select id="clock-how" name="how">(.*?)</select>', html, re.S).group(1)
    chosen = re.findall(r'<option value="([a-z_]+)" selected>', how)
    value = re.search(r'<input id="clock-value" name="value" value="([^"]*)"', html)
    return (chosen[0] if chosen else ""), (value.group(1) if value else "")


def test_a_preview_keeps_the_days_typed_and_its_dates_do_not_wrap(client, staff):
    preview = client.post("/support/clock/", {"how": "business_days", "value": "45", "action": "preview"})
    html = preview.content.decode()
    assert 'data-testid="clock-preview"' in html
    assert _form(html) == ("business_days", "45")
    dates = re.findall(r'<tr data-kind="[a-z_]+">\s*<td class="when">(\d{4}-\d{2}-\d{2})</td>', html)
    assert dates and len(dates) == html.count('<tr data-kind="')


def test_a_refused_value_is_kept_beside_its_error(client, staff):
    refused = client.post("/support/clock/", {"how": "days", "value": "forty", "action": "preview"}, follow=True)
    html = refused.content.decode()
    assert "Enter a whole number of days from 1 to 3660." in html
    assert _form(html) == ("days", "forty")
    assert _form(client.get("/support/").content.decode()) == ("", "")  # kept for the next page only
