"""``make bench`` writes README's Performance tables only from a full run: a benchmark file run alone (or picked
with ``-k``) records its rows in benchmarks/results/ and leaves README as it is."""

import sys

from benchmarks import results


def test_a_run_of_some_benchmarks_is_not_a_full_run(monkeypatch):
    monkeypatch.setattr(results, "TABLES", {"api_throughput": ("API", [])})
    monkeypatch.setattr(results, "RUN", {"sections": {"api_throughput": [{}]}})
    benchmark_files = sorted(results.HERE.parent.glob("bench_*.py"))
    assert len(benchmark_files) > 1
    for path in benchmark_files[:1]:  # one file collected: its table has rows, the others aren't even registered
        monkeypatch.setitem(sys.modules, f"benchmarks.{path.stem}", object())
    assert not results.every_benchmark_ran()
    for path in benchmark_files:
        monkeypatch.setitem(sys.modules, f"benchmarks.{path.stem}", object())
    assert results.every_benchmark_ran()
    monkeypatch.setattr(results, "TABLES", {**results.TABLES, "clock_kinds": ("Clock", [])})
    assert not results.every_benchmark_ran()  # every file collected, one of their tests left out (-k)
