"""portalctl clock against a live portal and a real Celery worker: the move runs on the worker while a
progress bar follows its days; a dry run, the answer as JSON, a second move refused, Swedish."""

from datetime import date

import pytest

from portal import clock
from tests.factories import LoginFactory, mosa_standard, token_for
from tests.worker import celery_worker

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_portalctl_moves_the_clock_on_the_worker_with_a_progress_bar(portal_url, cli, tmp_path):
    clock.set_date(date(2026, 6, 15))
    mosa_standard()
    token = token_for(LoginFactory(is_staff=True))
    assert cli("clock", url=portal_url, token=token).out.strip() == "Simulation date: 2026-06-15"
    with celery_worker(tmp_path / "worker.log"):
        dry = cli("clock", "--to", "2026-08-01", "--dry-run", url=portal_url, token=token)
        assert dry.code == 0, dry.err
        assert "Dry run from 2026-06-15 to 2026-08-01: 3 things would happen; nothing moved." in dry.out
        assert clock.today() == date(2026, 6, 15)
        assert "  Invoice: 2" in dry.out and "  Card payment: 1" in dry.out  # by kind, as the console says it
        swedish = cli("--lang", "sv", "clock", "--to", "2026-08-01", "--dry-run", url=portal_url, token=token)
        assert swedish.code == 0, swedish.err
        assert "  Faktura: 2" in swedish.out and "  Kortbetalning: 1" in swedish.out
        said = " ".join(swedish.out.split())  # the table's cells wrap
        assert "Kortbetalning" in said and "debiterades kortet som slutar på 4242." in said, said
        assert "charged to the card" not in said
        moved = cli("clock", "--to", "2026-08-01", url=portal_url, token=token)
        assert moved.code == 0, moved.err
        assert "Moving to 2026-08-01" in moved.out and "47/47" in moved.out  # the bar, ended
        assert "The clock moved from 2026-06-15 to 2026-08-01: 3 things happened." in moved.out
        assert "  Invoice: 2" in moved.out and "  Card payment: 1" in moved.out
        move_id = int(moved.err.split("Clock move ")[1].split()[0])
        again = cli("clock", "--move", str(move_id), "--json", url=portal_url, token=token)
        assert (again.code, again.json["status"], len(again.json["events"])) == (0, "done", 3)
    from simulation.moves import move_request

    # A long move under way, asked for by another agent (the worker is gone: it stays under way).
    other = move_request(actor="other@portal.local", days=3000, wake=False)
    refused = cli("--lang", "sv", "clock", "--days", "1", url=portal_url, token=token)
    assert refused.code == 2
    assert "En annan flytt av klockan pågår (till" in refused.err and str(other.target) in refused.err
    assert clock.today() == date(2026, 8, 1)
