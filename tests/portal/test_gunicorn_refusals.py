"""What gunicorn itself refuses under ``/api/`` answers problem+json too (issue 21; CONTRACT.md: nothing
under /api/ answers HTML). A real gunicorn, started as the Docker image starts it (its CMD, from the
project's root, with production settings), on a free port; raw bytes over a socket, as the probe sent
them: a request line gunicorn finds too long (414) and a body with both ``Transfer-Encoding: chunked``
and ``Content-Length`` (400). Neither reaches the portal, so neither can write anything."""

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
PROBLEM_FIELDS = {"type", "title", "status", "detail", "code"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _docker_command(port: int) -> list[str]:
    """The Dockerfile's CMD, bound to 127.0.0.1:port with one worker."""
    cmd = next(line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("CMD "))
    command = json.loads(cmd[len("CMD "):])
    assert command[:2] == ["gunicorn", "portal.wsgi"]
    command[command.index("--bind") + 1] = f"127.0.0.1:{port}"
    command[command.index("--workers") + 1] = "1"
    return [str(BIN / "gunicorn"), *command[1:]]


def exchange(port: int, raw: bytes) -> tuple[int, dict, bytes]:
    """Send ``raw``, read the answer until the server closes: status, headers (lower-case), body."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as conn:
        conn.sendall(raw)
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, value in (line.split(":", 1) for line in lines)}
    return int(status_line.split(" ")[1]), headers, body


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory):
    port, var = _free_port(), tmp_path_factory.mktemp("gunicorn")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings.production", "PORTAL_VAR_DIR": str(var),
           "DJANGO_SECRET_KEY": "gunicorn-refusals-test-only", "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
           "DJANGO_CACHE_URL": "locmemcache://", "DJANGO_SECURE_SSL_REDIRECT": "false"}
    with open(var / "gunicorn.log", "wb") as log:
        process = subprocess.Popen(_docker_command(port), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        for _ in range(120):
            try:
                status, _headers, _body = exchange(port, b"GET /api/v1/me/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                                         b"Connection: close\r\n\r\n")
                assert status == 401, (var / "gunicorn.log").read_text()
                break
            except OSError:
                assert process.poll() is None, (var / "gunicorn.log").read_text()
                time.sleep(0.5)
        else:
            pytest.fail("gunicorn didn't answer: " + (var / "gunicorn.log").read_text())
        yield port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def assert_problem(answer, status: int, code: str) -> dict:
    got, headers, body = answer
    assert (got, headers.get("content-type")) == (status, "application/problem+json"), body[:300]
    problem = json.loads(body)
    assert set(problem) == PROBLEM_FIELDS
    assert (problem["type"], problem["status"], problem["code"]) == (f"/api/problems/{code}", status, code)
    assert problem["title"] and problem["detail"]
    assert int(headers["content-length"]) == len(body)
    return problem


def test_the_portal_answers_behind_gunicorn(gunicorn):
    """The control: a request gunicorn lets through is the portal's own problem+json."""
    answer = exchange(gunicorn, b"GET /api/v1/me/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    assert_problem(answer, 401, "not_authenticated")


def test_a_query_string_of_10000_characters_is_414_problem_json(gunicorn):
    answer = exchange(gunicorn, b"GET /api/v1/subscriptions/?search=" + b"x" * 10_000
                      + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    problem = assert_problem(answer, 414, "uri_too_long")
    assert problem["title"] == "URI too long"


def test_transfer_encoding_chunked_beside_content_length_is_400_problem_json(gunicorn):
    answer = exchange(gunicorn, b"POST /api/v1/payment-methods/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
                                b"Content-Length: 5\r\n\r\n0\r\n\r\n")
    assert_problem(answer, 400, "parse_error")


def test_a_page_gunicorn_refuses_keeps_gunicorns_own_answer(gunicorn):
    """Outside /api/, where gunicorn read the path: its page, as before (pages answer HTML)."""
    status, headers, _body = exchange(gunicorn, b"POST /billing/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                                b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n")
    assert (status, headers.get("content-type")) == (400, "text/html")
