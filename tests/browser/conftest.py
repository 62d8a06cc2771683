"""Real-browser tests: Playwright drives Debian's Chromium against `live_server`.

The live server runs in this process, so the `upstream` fixture's SIGNALWIRE_BASE_URL (the
demo space) applies to it. Every test saves a screenshot to test-artifacts/ when it fails.
Chromium comes from the system package (.ci/run installs it); `playwright install` is never
run, and without /usr/bin/chromium these tests skip and say why.
"""

import os
import shutil
from pathlib import Path

import pytest

from demo_space import DEMO_PROJECT_ID

# Playwright's sync API keeps an event loop running in this thread; Django's ORM refuses
# to run "inside" it unless told that this is deliberate.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
DOCS = ROOT / "docs"
AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # The tests press play from scripts as well as by clicks.
    "--autoplay-policy=no-user-gesture-required",
]


def pytest_collection_modifyitems(config, items):
    if shutil.which(CHROMIUM) is None:
        skip = pytest.mark.skip(reason=f"no Chromium at {CHROMIUM}: apt-get install chromium")
        for item in items:
            if "tests/browser/" in str(item.path).replace(os.sep, "/"):
                item.add_marker(skip)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(request, browser, live_server):
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 1280, "height": 860},
        accept_downloads=True,
        timezone_id="Europe/Berlin",
    )
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # Anything the Content-Security-Policy blocks is a bug in a template or script.
    page.on(
        "console",
        lambda message: (
            errors.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.js_errors = errors
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"{request.node.name}.png", full_page=True)
    context.close()
    assert errors == [], "JavaScript errors on the page"


def log_in(page, username, password):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


@pytest.fixture
def alice_page(page, alice):
    """alice, logged in through the real form, looking at her recordings."""
    log_in(page, "alice", "alice-password")
    page.wait_for_url("**/recordings/")
    return page


@pytest.fixture
def stereo_recording(demo_space):
    """A two-party stereo call of ten minutes, the newest in the list. Ask for it before
    `alice_page`, so the list she is shown (and that the dashboard caches) holds it."""
    return demo_space.add_recording(
        DEMO_PROJECT_ID, duration_in_seconds=600, stereo=True, track="both"
    )


@pytest.fixture
def axe():
    return axe_violations


@pytest.fixture
def docs_screenshot():
    return screenshot_for_docs


def axe_violations(page) -> list[str]:
    """Serious and critical accessibility violations on the page, as readable lines."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol: an injected <script> tag would be
        # (rightly) refused by the page's Content-Security-Policy.
        page.evaluate(AXE.read_text() + "\n;true")
    errors = getattr(page, "js_errors", [])
    seen = len(errors)
    results = page.evaluate(
        "axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map("
        "v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 3)})))"
    )
    # axe's own probes (inline styles while it measures) are refused by the page's CSP;
    # they are the test tool's, not the page's.
    errors[seen:] = [e for e in errors[seen:] if "Content Security Policy" not in e]
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes']}"
        for v in results
        if v["impact"] in ("serious", "critical")
    ]


def screenshot_for_docs(page, name):
    """The pages the README shows. They go to test-artifacts/ on every run, and replace
    the committed ones in docs/ when UPDATE_SCREENSHOTS=1 (they show the time of the run,
    so writing them on every run would leave every checkout modified)."""
    folder = DOCS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else ARTIFACTS / "docs"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=folder / f"{name}.png")


@pytest.fixture
def indexed(alice, stereo_recording):
    """alice's recordings synced into the index, so search and costs have data."""
    from recordings_app import index
    from recordings_app.models import Credential

    index.run_sync(Credential.objects.get(user=alice))
