"""CPU time of the processes a benchmark starts (a process group: gunicorn and its workers, a Celery
worker and its pool) and of the PostgreSQL backends serving one database, from /proc (Linux): where
the machine's two cores went during a measure."""

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: str) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # gone meanwhile
        return None
    return text.rsplit(")", 1)[1].split()  # fields from the state on (the name may hold spaces)


def _cpu(fields: list[str]) -> float:
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU seconds of every live process of the group (children that exited and were
    waited for count in their parent's cutime, added too)."""
    total = 0.0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        fields = _stat(entry.name)
        if fields and int(fields[2]) == pgid:
            total += _cpu(fields) + (int(fields[13]) + int(fields[14])) / TICKS
    return total


def database_backends_cpu_seconds() -> float:
    """CPU seconds of the PostgreSQL backends connected to this connection's database (other
    databases on the same server — other work on the machine — are not counted, nor this process's); 0 when the server's
    processes aren't visible here."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                       "AND pid <> pg_backend_pid()")
        pids = [row[0] for row in cursor.fetchall()]
    return sum(_cpu(fields) for pid in pids if (fields := _stat(str(pid))))


def machine_cpu_seconds() -> float:
    """Busy CPU seconds of the whole machine so far (every process, ours and others')."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / TICKS


def postgres_cpu_seconds() -> float:
    """CPU seconds of every PostgreSQL process on this machine, with the backends that have exited
    (counted in the postmaster's cutime/cstime): every database, other work's too; 0 if not visible.
    (The per-database sum above misses backends that live for one task only.)"""
    total = 0.0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            comm = Path(f"/proc/{entry.name}/comm").read_text().strip()
        except OSError:
            continue
        if comm.startswith("postgres") and (fields := _stat(entry.name)):
            total += _cpu(fields) + (int(fields[13]) + int(fields[14])) / TICKS
    return total
