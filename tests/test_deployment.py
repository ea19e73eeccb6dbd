"""docker-compose.yml runs what the project has (no Docker engine here, so it is parsed)."""

import importlib
import shlex
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


def test_compose_has_the_five_services():
    assert set(COMPOSE["services"]) == {"postgres", "redis", "web", "worker", "beat"}


def test_app_services_share_the_same_settings_from_the_environment():
    envs = [COMPOSE["services"][s]["environment"] for s in ("web", "worker", "beat")]
    assert envs[0] == envs[1] == envs[2]
    env = envs[0]
    assert env["DATABASE_URL"].startswith("postgres://") and env["DATABASE_URL"].endswith("@postgres:5432/planchange")
    assert env["CELERY_BROKER_URL"] == "redis://redis:6379/0"
    assert env["DJANGO_SECRET_KEY"] == "${DJANGO_SECRET_KEY:?set DJANGO_SECRET_KEY}"  # no default in production


def test_web_runs_migrations_the_demo_and_gunicorn_on_the_projects_wsgi():
    migrate, load, gunicorn = commands("web")
    django_commands = get_commands()
    assert migrate[:2] == ["python", "manage.py"] and migrate[2] in django_commands
    assert load[2] == "load_scenario" and "load_scenario" in django_commands
    assert Path(load[-1]).is_file()
    assert gunicorn[0] == "gunicorn"
    assert hasattr(importlib.import_module(gunicorn[1].replace(":application", "")), "application")


def test_worker_and_beat_use_the_projects_celery_app():
    for service, role in (("worker", "worker"), ("beat", "beat")):
        (cmd,) = commands(service)
        assert cmd[:4] == ["celery", "-A", "portal", role]
    assert importlib.import_module("portal").celery_app.main == "portal"


def test_the_image_is_built_from_the_project():
    dockerfile = Path("Dockerfile").read_text()
    assert COMPOSE["services"]["web"]["build"] == "."
    assert "pip install --no-cache-dir ." in dockerfile
    assert "collectstatic --noinput" in dockerfile
    for service in ("web", "worker", "beat"):
        depends = COMPOSE["services"][service]["depends_on"]
        assert depends == {"postgres": {"condition": "service_healthy"}, "redis": {"condition": "service_healthy"}}


def test_make_run_procfile_starts_web_worker_and_beat():
    procs = dict(line.split(": ", 1) for line in Path("Procfile").read_text().splitlines() if line.strip())
    assert set(procs) == {"web", "worker", "beat"}
    assert procs["worker"].startswith("celery -A portal worker")
    assert procs["beat"].startswith("celery -A portal beat")
