"""One run's results: ``record()`` rows per section while the benchmarks run; at the end
benchmarks/results/latest.json (everything) and latest.md (the tables the README's Performance
section shows), with the date, the machine (CPUs, model, RAM, load), the backend and the scale."""

import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent / "results"
RUN: dict = {"sections": {}}

# Section → (title, [(column key, heading)]): the markdown tables, in this order.
TABLES: dict[str, tuple[str, list[tuple[str, str]]]] = {}


def scale() -> float:
    """BENCH_SCALE shrinks every size (0.05: 100,000 seats → 5,000) while the machine is busy."""
    return float(os.environ.get("BENCH_SCALE", "1"))


def scaled(n: int, *, least: int = 10) -> int:
    return max(int(round(n * scale())), least)


def runs(default: int) -> int:
    return int(os.environ.get("BENCH_RUNS", default))


def table(section: str, title: str, columns: list[tuple[str, str]]) -> None:
    TABLES[section] = (title, columns)


def record(section: str, row: dict) -> None:
    RUN["sections"].setdefault(section, []).append(row)
    print(f"\n[bench] {section}: {json.dumps(row, default=str)}")  # noqa: T201 - make bench shows it


def _machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    return {"cpus": os.cpu_count(), "cpu_model": cpu, "ram_gb": round(mem_kb / 2**20, 1),
            "python": platform.python_version(), "system": platform.platform()}


def start() -> None:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,  # noqa: S607
                            cwd=HERE.parent.parent, check=False).stdout.strip()
    RUN.update(started=datetime.now(UTC).isoformat(timespec="seconds"), machine=_machine(), commit=commit,
               scale=scale(), load_at_start=os.getloadavg())


def describe_backend() -> None:
    from django.conf import settings
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    from portal.celery import app

    with app.connection_for_write() as conn:
        redis = conn.default_channel.client.info("server")["redis_version"]
    RUN["backend"] = {"database": f"PostgreSQL {pg}", "broker": f"Redis {redis}",
                      "conn_max_age": settings.DATABASES["default"].get("CONN_MAX_AGE", 0)}


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if value < 10 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "" if value is None else str(value)


def markdown() -> str:
    m, b = RUN.get("machine", {}), RUN.get("backend", {})
    load = RUN.get("load_at_start", (0, 0, 0))
    lines = [f"Run of {RUN.get('started', '?')} (commit {RUN.get('commit', '?')}) on {m.get('cpus')} × "
             f"{m.get('cpu_model')}, {m.get('ram_gb')} GB RAM; {b.get('database', '?')}, {b.get('broker', '?')}; "
             f"scale {RUN.get('scale')}; load average at the start {load[0]:.2f}, at the end "
             f"{RUN.get('load_at_end', (0,))[0]:.2f}.", ""]
    for section, (title, columns) in TABLES.items():
        rows = RUN["sections"].get(section)
        if not rows:
            continue
        lines += [f"**{title}**", "", "| " + " | ".join(h for _k, h in columns) + " |",
                  "|" + "---|" * len(columns)]
        lines += ["| " + " | ".join(_cell(row.get(k)) for k, _h in columns) + " |" for row in rows]
        lines.append("")
    return "\n".join(lines)


def finish() -> None:
    if not RUN["sections"]:
        return
    RUN["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    RUN["load_at_end"] = os.getloadavg()
    HERE.mkdir(exist_ok=True)
    (HERE / "latest.json").write_text(json.dumps(RUN, indent=2, default=str) + "\n")
    (HERE / "latest.md").write_text(markdown())
    print(f"\n[bench] results: {HERE / 'latest.json'} and latest.md")  # noqa: T201
    if scale() == 1 and every_benchmark_ran():
        readme_update()


def every_benchmark_ran() -> bool:
    """A full run: every ``bench_*.py`` was collected and each of their tables has rows (one file run alone, or
    ``-k``, registers only some tables, and its README section would lose the others')."""
    modules = {f"benchmarks.{path.stem}" for path in HERE.parent.glob("bench_*.py")}
    return modules <= set(sys.modules) and set(TABLES) <= set(RUN["sections"])


README = HERE.parent.parent / "README.md"
BEGIN, END = "<!-- bench:begin (make bench writes this part from a full run) -->", "<!-- bench:end -->"


def readme_update() -> None:
    """A full run (every table, scale 1) puts its tables into the README's Performance section."""
    text = README.read_text()
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        README.write_text(head + BEGIN + "\n" + markdown() + "\n" + END + rest.split(END, 1)[1])
        print("[bench] README.md's Performance section updated")  # noqa: T201


class QueryCounter:
    """``with QueryCounter() as counted: …; counted.n``: every statement the connection executed (no
    SQL kept, so no cap on how many, unlike CaptureQueriesContext); ``counted.seconds``: the time spent in
    executing them (the database's work and the round trips; not building them, nor reading their rows into
    objects)."""

    def __enter__(self):
        from django.db import connection

        self.n, self.seconds = 0, 0.0
        self._wrapper = connection.execute_wrapper(self)
        self._wrapper.__enter__()
        return self

    def __call__(self, execute, sql, params, many, context):
        self.n += 1
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started

    def __exit__(self, *exc):
        self._wrapper.__exit__(*exc)
