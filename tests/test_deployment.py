"""docker-compose.yml runs what the project has (no Docker engine here, so it is parsed)."""

import importlib
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import yaml
from django.core.management import get_commands

COMPOSE = yaml.safe_load(Path("docker-compose.yml").read_text())


def commands(service: str) -> list[list[str]]:
    cmd = COMPOSE["services"][service]["command"]
    text = cmd if isinstance(cmd, str) else shlex.join(cmd)
    if text.startswith("sh -c "):
        text = shlex.split(text)[2]
    return [shlex.split(part) for part in text.split("&&")]


def test_compose_has_the_seven_services():
    assert set(COMPOSE["services"]) == {"postgres", "redis", "web", "worker", "webhooks", "clock", "beat"}


def test_app_services_share_the_same_settings_from_the_environment():
    envs = [COMPOSE["services"][s]["environment"] for s in ("web", "worker", "webhooks", "clock", "beat")]
    assert envs[0] == envs[1] == envs[2] == envs[3] == envs[4]
    env = envs[0]
    assert env["DATABASE_URL"].startswith("postgres://") and env["DATABASE_URL"].endswith("@postgres:5432/planchange")
    assert env["CELERY_BROKER_URL"] == "redis://redis:6379/0"
    assert env["DJANGO_SECRET_KEY"] == "${DJANGO_SECRET_KEY:?set DJANGO_SECRET_KEY}"  # no default in production
    assert env["DJANGO_SETTINGS_MODULE"] == "portal.settings.production"
    assert env["DJANGO_CACHE_URL"] == "redis://redis:6379/1"  # the throttles count across gunicorn workers


def compose_env() -> dict:
    """The app services' environment as `docker compose up` gives it with nothing exported."""
    def resolve(value):
        return re.sub(r"\$\{(\w+):[-?]([^}]*)\}", lambda m: m[2] if m[0].count(":-") else "", str(value))
    return {k: resolve(v) for k, v in COMPOSE["services"]["web"]["environment"].items()}


def test_the_http_demo_turns_off_exactly_the_https_redirect_and_secure_cookies(tmp_path):
    """Served over plain http://localhost:8000, the demo can't redirect to https nor use Secure
    cookies (the browser would not send them back); everything else of the deploy check holds."""
    env = compose_env()
    assert (env["DJANGO_SECURE_SSL_REDIRECT"], env["DJANGO_SECURE_COOKIES"]) == ("false", "false")
    env.update(DJANGO_SECRET_KEY="compose-demo-secret-" + "x" * 40, DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3",
               CELERY_BROKER_URL="redis://127.0.0.1:6379/14", DJANGO_CACHE_URL="redis://127.0.0.1:6379/14",
               PORTAL_VAR_DIR=str(tmp_path / "var"))
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PORTAL_"))}
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy"], env={**keep, **env},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert re.findall(r"\((security\.\w+)\)", result.stderr) == ["security.W008", "security.W012", "security.W016"]
    assert result.stderr.strip().endswith("System check identified 3 issues (0 silenced).")


def test_web_runs_migrations_the_demo_and_gunicorn_on_the_projects_wsgi():
    migrate, load, gunicorn = commands("web")
    django_commands = get_commands()
    assert migrate[:2] == ["python", "manage.py"] and migrate[2] in django_commands
    assert load[2] == "load_scenario" and "load_scenario" in django_commands
    assert Path(load[-1]).is_file()
    assert gunicorn[0] == "gunicorn"
    assert hasattr(importlib.import_module(gunicorn[1].replace(":application", "")), "application")


def test_worker_and_beat_use_the_projects_celery_app():
    for service, role in (("worker", "worker"), ("webhooks", "worker"), ("beat", "beat")):
        (cmd,) = commands(service)
        assert cmd[:4] == ["celery", "-A", "portal", role]
    assert importlib.import_module("portal").celery_app.main == "portal"


def test_the_image_is_built_from_the_project():
    dockerfile = Path("Dockerfile").read_text()
    assert COMPOSE["services"]["web"]["build"] == "."
    assert "pip install --no-cache-dir ." in dockerfile
    assert "collectstatic --noinput" in dockerfile
    assert "DJANGO_SETTINGS_MODULE=portal.settings.production" in dockerfile  # gunicorn, worker and beat alike
    for service in ("web", "worker", "webhooks", "beat"):
        depends = COMPOSE["services"][service]["depends_on"]
        assert depends == {"postgres": {"condition": "service_healthy"}, "redis": {"condition": "service_healthy"}}


def procfile() -> dict[str, str]:
    return dict(line.split(": ", 1) for line in Path("Procfile").read_text().splitlines() if line.strip())


def test_make_run_procfile_starts_web_workers_and_beat():
    procs = procfile()
    assert set(procs) == {"web", "worker", "webhooks", "clock", "beat"}
    assert procs["worker"].startswith("celery -A portal worker")
    assert procs["webhooks"].startswith("celery -A portal worker -Q webhooks ")
    assert procs["clock"].startswith("celery -A portal worker -Q clock ")
    assert procs["beat"].startswith("celery -A portal beat")


def _queues(cmd: list[str]) -> set[str]:
    return set(cmd[cmd.index("-Q") + 1].split(",")) if "-Q" in cmd else {"celery"}


def test_webhook_deliveries_have_workers_of_their_own():
    """A receiver that answers slowly holds the worker that sends to it: deliveries go to a queue that
    plan changes' tasks are never in, and make run and docker-compose each run a worker for every queue
    (found by probing, probe2: two slow receivers held both worker processes and every plan change)."""
    from django.conf import settings

    from portal.celery import app

    route = app.amqp.router.route
    assert route({}, "webhooks.deliver")["queue"].name == "webhooks"
    assert route({}, "simulation.clock_move")["queue"].name == "clock"
    for task in ("planchange.run_change", "simulation.sweep", "webhooks.fan_out"):
        assert route({}, task)["queue"].name == "celery"
    routed = {r["queue"] for r in settings.CELERY_TASK_ROUTES.values()} | {"celery"}
    procs = procfile()
    for workers in ([shlex.split(procs["worker"]), shlex.split(procs["webhooks"]), shlex.split(procs["clock"])],
                    [commands("worker")[0], commands("webhooks")[0], commands("clock")[0]]):
        assert [_queues(cmd) for cmd in workers] == [{"celery"}, {"webhooks"}, {"clock"}]
        assert set().union(*(_queues(cmd) for cmd in workers)) == routed
