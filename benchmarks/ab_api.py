"""Two checkouts' API CPU per request under gunicorn, measured in turns (an A/B of bench_api_throughput's
measure, for a machine others are using: its CPU per request moves with their load, minute by minute, so the
two are measured one right after the other, many times, in an order that alternates).

    AB_OTHER=/path/to/other/worktree .venv/bin/python -m pytest benchmarks/ab_api.py -o testpaths=benchmarks \\
        -o python_files="ab_*.py" -p no:cacheprovider -s -q

Both gunicorns (``benchmarks.gunicorn_settings``, two workers each) serve the same database and Redis: this
checkout's code and AB_OTHER's (each started in its own directory, which gunicorn puts first on its path). Each
turn is locust for AB_SECONDS (8) on one GET against one of them; AB_ROUNDS (6) rounds of every GET on each.
The two answer each GET with the same bytes (checked first). Prints each turn's gunicorn CPU ms per request and
requests/s, then each GET's median of the CPU per request and of the paired ratios (this / other). Not collected
by ``make bench``."""

import os
import statistics
from pathlib import Path

import pytest

from benchmarks import bench_api_throughput as bench
from benchmarks import procs

OTHER = os.environ.get("AB_OTHER", "")
ROUNDS = int(os.environ.get("AB_ROUNDS", "6"))
SECONDS = int(os.environ.get("AB_SECONDS", "8"))


class Gunicorn(bench.Gunicorn):
    def __init__(self, log: Path, bare_dir: Path, cwd: Path):
        super().__init__(log, bare_dir)
        self.cwd = cwd

    def __enter__(self):
        real = bench.settings.BASE_DIR
        bench.settings.BASE_DIR = self.cwd
        try:
            return super().__enter__()
        finally:
            bench.settings.BASE_DIR = real


def _turn(server, *, path: str, tokens: list[str], out: Path) -> tuple[float, float]:
    web = procs.group_cpu_seconds(server.proc.pid)
    bench.SECONDS = SECONDS
    run = bench.locust(server.url, path=path, tokens=tokens, out=out)
    cpu = procs.group_cpu_seconds(server.proc.pid) - web
    assert run["failures"] == 0, run
    return 1000 * cpu / max(run["requests"], 1), run["rps"]


@pytest.mark.skipif(not OTHER, reason="AB_OTHER names the other checkout")
@pytest.mark.django_db(transaction=True)
def test_ab(tmp_path):
    change, tokens = bench.api_world("ab")
    paths = ["/api/v1/subscriptions/", f"/api/v1/plan-changes/{change.pk}/"]
    here = Path(bench.settings.BASE_DIR)
    results: dict = {}
    with (Gunicorn(tmp_path / "this.log", tmp_path, here) as this,
          Gunicorn(tmp_path / "other.log", tmp_path, Path(OTHER)) as other):
        servers = {"this": this, "other": other}
        for path in paths:
            bodies = {name: bench._get(server.url + path, tokens[0]) for name, server in servers.items()}
            assert bodies["this"][0] == bodies["other"][0] == 200, bodies
            assert bodies["this"][1] == bodies["other"][1], bodies  # the same answer, byte for byte
            for server in servers.values():
                for _ in range(20):
                    bench._get(server.url + path, tokens[0])
        for round_ in range(ROUNDS):
            for path in paths:
                order = ["this", "other"] if round_ % 2 == 0 else ["other", "this"]
                for name in order:
                    cpu, rps = _turn(servers[name], path=path, tokens=tokens, out=tmp_path / f"{name}-{round_}")
                    results.setdefault((path, name), []).append(cpu)
                    print(f"round {round_} {name:5s} {path:28s} {cpu:.2f} ms CPU/request, {rps:.0f}/s, "
                          f"load {os.getloadavg()[0]:.1f}", flush=True)
    for path in paths:
        mine, theirs = results[(path, "this")], results[(path, "other")]
        ratios = [a / b for a, b in zip(mine, theirs, strict=True)]
        print(f"{path}: this {statistics.median(mine):.2f} (min {min(mine):.2f}), "
              f"other {statistics.median(theirs):.2f} "
              f"(min {min(theirs):.2f}) ms CPU/request; this/other median {statistics.median(ratios):.2f} "
              f"({', '.join(f'{r:.2f}' for r in ratios)})")
