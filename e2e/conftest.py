"""Browser journeys: pytest-playwright against pytest-django's live_server, in Debian's Chromium.

Playwright cannot download browsers here, so Chromium is launched by path. Every page is watched: a
console error, an uncaught page error, or a request to anything but the live server fails the test.
Screenshots of each page land in test-artifacts/screenshots/ (not committed) for a person to look at.
A journey that takes the ``viewport`` fixture runs twice: at 1440×900 and at 375×812.
``axe(page)`` runs axe-core (the npm package in e2e/axe/, installed by ``npm ci --prefix e2e/axe``) on
the page and returns its serious and critical violations.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

# pytest-playwright runs an event loop in the main thread; the ORM calls of our fixtures are synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("SBSYNC_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).parent.parent / "test-artifacts" / "screenshots"
AXE = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
# Every staff-UI journey runs at both: a desktop screen and a phone.
VIEWPORTS = {"1440": {"width": 1440, "height": 900}, "375": {"width": 375, "height": 812}}


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install Debian's chromium (apt-get install -y chromium)"
        )
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request, page: Page) -> dict[str, int]:
    """The journey's screen, desktop then phone (the test id says which): the page is resized to it and
    the size returned (``viewport["width"]`` names screenshots and picks per-screen expectations)."""
    size = VIEWPORTS[request.param]
    page.set_viewport_size(size)
    return size


@pytest.fixture
def watched_page(page: Page, live_server) -> Iterator[Page]:
    """A page that fails the test on console errors, page errors, or requests leaving the live server."""
    problems: list[str] = []
    origin = re.escape(live_server.url)
    page.on(
        "console",
        lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None,
    )
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))

    def check_request(request) -> None:
        if not re.match(origin, request.url) and not request.url.startswith(("data:", "blob:", "about:")):
            problems.append(f"request left the server: {request.url}")

    page.on("request", check_request)
    yield page
    assert problems == []


@pytest.fixture
def screenshot(request):
    """``screenshot(page, "name")`` saves a full-page PNG under test-artifacts/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page: Page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        # From the top, as the page is laid out: a full-page capture of a scrolled page draws the sticky
        # sidebar where the scroll left it. The scroll is put back for the rest of the journey.
        scrolled = page.evaluate("() => [window.scrollX, window.scrollY]")
        page.evaluate("() => window.scrollTo(0, 0)")
        page.screenshot(path=str(path), full_page=True)
        page.evaluate("([x, y]) => window.scrollTo(x, y)", scrolled)
        return path

    return take


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.exists():
        pytest.fail(f"axe-core not found at {AXE}: run npm ci --prefix e2e/axe")
    return AXE.read_text()


@pytest.fixture
def axe(axe_source):
    """``axe(page)``: the serious and critical accessibility violations of the page as it is now, each as
    "rule: target, ..." (axe-core is evaluated through the DevTools protocol, which the page's CSP allows,
    and is never served by the application)."""

    def check(page: Page) -> list[str]:
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            page.evaluate(axe_source)
        result = page.evaluate(
            "() => axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map("
            "v => ({id: v.id, impact: v.impact, targets: v.nodes.map(n => n.target.join(' '))})))"
        )
        return [
            f"{v['id']} ({v['impact']}): {', '.join(v['targets'][:5])}"
            for v in result
            if v["impact"] in ("serious", "critical")
        ]

    return check
