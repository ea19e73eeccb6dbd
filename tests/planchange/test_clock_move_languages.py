"""What a clock move tells is said in its reader's language (README: "the texts the portal writes ... are rendered in
the reader's language when shown"): a move is background work, run by a worker in no one's language, so what it
keeps of each happening is the text's key and params, and the API, the console and portalctl render them for
whoever reads them."""

import pytest
from django.utils import translation

from simulation.moves import move_run
from tests.factories import LoginFactory, mosa_standard
from tests.helpers import page_text

pytestmark = pytest.mark.django_db


def _moved_by_the_worker(support) -> dict:
    answer = support.post("/api/v1/support/clock/", {"to": "2026-08-01"}, format="json", HTTP_PREFER="respond-async")
    assert answer.status_code == 202, answer.json()
    with translation.override("en"):  # the worker's
        assert move_run(answer.json()["id"]) == "done"
    return answer.json()


def test_a_move_the_worker_ran_reads_in_swedish_and_in_english(at_date, support_api):
    at_date("2026-06-15")
    tenant, _card, sub, _users = mosa_standard()
    move = _moved_by_the_worker(support_api)
    english = support_api.get(move["url"], HTTP_ACCEPT_LANGUAGE="en").json()["events"]
    swedish = support_api.get(move["url"], HTTP_ACCEPT_LANGUAGE="sv").json()["events"]
    number = f"INV-20260701-P{sub.pk:05d}"
    assert [(e["kind"], e["subject"], e["detail"]) for e in english[:2]] == [
        ("invoice", number, "Microsoft 365 Business Standard (25 licenses), 2026-07-01 to 2026-08-01: USD 328.25 on "
                            f"invoice {number} dated 2026-07-01, due 2026-07-02."),
        ("payment", number, "USD 328.25 charged to the card ending 4242.")]
    assert [(e["kind"], e["subject"], e["detail"]) for e in swedish[:2]] == [
        ("invoice", number, "Microsoft 365 Business Standard (25 licenser), 2026-07-01 till 2026-08-01: 328,25\xa0US$ på "
                            f"faktura {number} daterad 2026-07-01, förfaller 2026-07-02."),
        ("payment", number, "328,25\xa0US$ debiterades kortet som slutar på 4242.")]
    assert [{k: v for k, v in e.items() if k not in ("subject", "detail")} for e in swedish] == [
        {k: v for k, v in e.items() if k not in ("subject", "detail")} for e in english]


def test_a_move_run_in_a_swedish_request_reads_in_english_too(at_date, support_api):
    at_date("2026-06-15")
    mosa_standard()
    answer = support_api.post("/api/v1/support/clock/", {"to": "2026-07-05"}, format="json", HTTP_ACCEPT_LANGUAGE="sv")
    assert answer.status_code == 200, answer.json()
    assert answer.json()["events"][1]["detail"] == "328,25\xa0US$ debiterades kortet som slutar på 4242."
    shown = support_api.get(f"/api/v1/support/clock/moves/{answer.json()['move']}/", HTTP_ACCEPT_LANGUAGE="en")
    assert shown.json()["events"][1]["detail"] == "USD 328.25 charged to the card ending 4242."


def test_the_console_shows_a_workers_move_in_the_readers_language(at_date, client, settings, monkeypatch):
    """The agent asks in Swedish; the page's wait is up before any worker takes the move up; the worker runs it (in
    English); the agent's next page shows what it did in Swedish."""
    import support.views
    from simulation.models import ClockMove

    at_date("2026-06-15")
    mosa_standard()
    settings.CLOCK_MOVE_CLAIM_WAIT = 60  # the page never runs it itself
    monkeypatch.setattr(support.views, "CLOCK_PAGE_WAIT", 0.1)
    client.force_login(LoginFactory(is_staff=True))
    client.post("/support/clock/", {"how": "to", "value": "2026-08-01", "action": "move"}, HTTP_ACCEPT_LANGUAGE="sv")
    with translation.override("en"):  # the worker's
        assert move_run(ClockMove.objects.get().pk) == "done"
    swedish = page_text(client.get("/support/", HTTP_ACCEPT_LANGUAGE="sv"))  # (its spaces as one)
    assert "328,25 US$ debiterades kortet som slutar på 4242." in swedish
    assert ("Microsoft 365 Business Standard (25 licenser), 2026-07-01 till 2026-08-01: 328,25 US$ på faktura "
            "INV-20260701-P") in swedish
    assert "charged to the card" not in swedish and "USD" not in swedish


def test_a_long_moves_progress_writes_its_numbers_as_the_reader_does(at_date, client, settings, monkeypatch):
    """Ten years under way: "0 of 3,650 days done" in English, "0 av 3 650 dagar klara" in Swedish."""
    import support.views

    at_date("2026-06-15")
    settings.CLOCK_MOVE_CLAIM_WAIT = 60  # no worker takes it up while the page is read
    monkeypatch.setattr(support.views, "CLOCK_PAGE_WAIT", 0.1)
    client.force_login(LoginFactory(is_staff=True))
    client.post("/support/clock/", {"how": "days", "value": "3650", "action": "move"})
    assert "0 of 3,650 days done" in page_text(client.get("/support/", HTTP_ACCEPT_LANGUAGE="en"))
    assert "0 av 3 650 dagar klara" in page_text(client.get("/support/", HTTP_ACCEPT_LANGUAGE="sv"))
