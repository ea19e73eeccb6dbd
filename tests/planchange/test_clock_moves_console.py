"""The support console follows a move of the clock as it goes (issue 21): its progress while a worker runs
it, whoever asked for it, then what it did; in English and in Swedish."""

from datetime import date

import pytest

from simulation.models import ClockMove
from simulation.moves import move_request, move_run
from tests.factories import mosa_standard
from tests.helpers import page_text

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("language, progress, asked", [
    ("en", "0 of 47 days done; things that happened so far: 0.", "Asked for by other@portal.local."),
    ("sv", "0 av 47 dagar klara; saker som har hänt hittills: 0.", "Begärd av other@portal.local."),
])
def test_a_move_under_way_shows_its_progress_and_who_asked(client, staff, at_date, language, progress, asked):
    at_date("2026-06-15")
    mosa_standard()
    move = move_request(actor="other@portal.local", to=date(2026, 8, 1), wake=False)
    page = client.get("/support/", HTTP_ACCEPT_LANGUAGE=language)
    text = page_text(page)
    assert progress in text and asked in text
    html = page.content.decode()
    assert f'data-move-url="/api/v1/support/clock/moves/{move.pk}/"' in html
    assert '<progress max="47" value="0"' in html
    # Another move meanwhile is refused beside the form, naming the one under way.
    refused = client.post("/support/clock/", {"how": "days", "value": "5", "action": "move"}, follow=True,
                          HTTP_ACCEPT_LANGUAGE=language)
    assert "47" in page_text(refused) and ClockMove.objects.count() == 1


def test_the_agent_who_asked_sees_what_it_did_once_it_is_done(client, staff, at_date):
    at_date("2026-06-15")
    mosa_standard()
    move = move_request(actor="support@portal.local", to=date(2026, 8, 1), wake=False)
    session = client.session
    session["clock_following"] = {"move": move.pk, "how": "to", "value": "2026-08-01"}
    session.save()
    assert "0 of 47 days done" in page_text(client.get("/support/"))
    move_run(move.pk)  # the worker
    done = page_text(client.get("/support/"))
    assert "The simulation date is now 2026-08-01. Things that happened on the way: 3." in done
    assert "What happened from 2026-06-15 to 2026-08-01" in done
    assert "days done" not in page_text(client.get("/support/"))  # shown once
