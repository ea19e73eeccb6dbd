"""``celery -A benchmarks.celery_probe worker``: the portal's own Celery app and tasks, unchanged,
with a probe that writes one JSON line per task to BENCH_PROBE_FILE: the task, its database
round-trips (every statement the worker's connection executed, counted by a
``connection.execute_wrapper``), its seconds and the worker process's peak resident memory so far
(VmHWM). Benchmarks only."""

import json
import os
import resource
import time

from celery.signals import task_postrun, task_prerun

from portal.celery import app

__all__ = ["app"]

_state: dict = {}


def _count(execute, sql, params, many, context):
    _state["queries"] += 1
    return execute(sql, params, many, context)


@task_prerun.connect
def _started(task_id=None, task=None, args=None, **_kw):
    from django.db import connection

    _state.update(queries=0, started=time.perf_counter(), wrapper=connection.execute_wrapper(_count))
    _state["wrapper"].__enter__()


@task_postrun.connect
def _finished(task_id=None, task=None, args=None, retval=None, **_kw):
    _state["wrapper"].__exit__(None, None, None)
    line = {"task": task.name, "args": list(args or ()), "result": retval, "queries": _state["queries"],
            "seconds": time.perf_counter() - _state["started"], "pid": os.getpid(),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    with open(os.environ["BENCH_PROBE_FILE"], "a") as out:
        out.write(json.dumps(line, default=str) + "\n")
