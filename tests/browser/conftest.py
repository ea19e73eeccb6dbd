"""Browser tests: Playwright driving Debian's Chromium (``apt-get install chromium``;
Playwright's own browser download can't reach the internet here) against a live server,
with a real Celery worker. Screenshots of every page go to test-artifacts/screenshots/."""

import os
import re
import shutil
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test's thread; Django's ORM refuses to run
# there unless told it is safe (it is: the loop is Playwright's, not ours).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def pytest_collection_modifyitems(config, items):
    if CHROMIUM:
        return
    if os.environ.get("CI"):
        raise pytest.UsageError("CI must run the browser tests: install Chromium (apt-get install -y chromium)")
    skip = pytest.mark.skip(reason="Chromium is not installed (apt-get install -y chromium)")
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter):
    if SCREENSHOTS.exists() and any(SCREENSHOTS.rglob("*.png")):
        terminalreporter.write_line(f"browser screenshots: {SCREENSHOTS}")


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


class Shots:
    """Numbered screenshots of one test, in a folder named after it."""

    def __init__(self, name: str):
        self.folder = SCREENSHOTS / re.sub(r"[^\w.-]+", "_", name)
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self.n = 0

    def __call__(self, page, label: str) -> None:
        self.n += 1
        # A record, not a check: a whole page as tall as ReDoc's took longer than the 15 s a step may take on a
        # CI machine running two lanes and more beside them.
        page.screenshot(path=str(self.folder / f"{self.n:02d}-{label}.png"), full_page=True, timeout=60_000)


@pytest.fixture
def shots(request):
    return Shots(request.node.name)


@pytest.fixture
def browser_page(chromium, live_server):
    """A fresh English browser context against the live server."""
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="en-US",
                                   base_url=live_server.url)
    context.set_default_timeout(15000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def new_context(chromium, live_server):
    contexts = []

    def make(locale="en-US"):
        context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale=locale,
                                       base_url=live_server.url)
        context.set_default_timeout(15000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
