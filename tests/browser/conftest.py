"""Browser tests: Playwright (sync API) driving Debian's Chromium against pytest-django's live server.

Never `playwright install`: the project uses the system Chromium (/usr/bin/chromium, installed by
the project's scripts). Without it the tests skip loudly — except under CI (WENMING_CI=1), where a
missing browser is a failure, so a green run always means the browser tests ran.
"""

import os
import shutil
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test thread; Django's async-safety check would
# then refuse the test's own database access.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = os.environ.get("WENMING_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


def _missing_reason() -> str | None:
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)) and not shutil.which(CHROMIUM):
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium; never `playwright install`)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="session")
def browser(pytestconfig):
    reason = _missing_reason()
    if reason:
        message = f"\n\n*** BROWSER TESTS NOT RUN: {reason} ***\n"
        if os.environ.get("WENMING_CI") == "1":
            pytest.fail(message + "WENMING_CI=1: browser tests must run in CI.", pytrace=False)
        pytest.skip(message)
    # Playwright's sync API allows one instance per process. A module elsewhere that imports this
    # fixture gets its own session-scoped copy (and this conftest may be loaded twice, under two
    # module names), so the running browser is kept on the pytest config, which is one per process.
    running = getattr(pytestconfig, "_wenming_browser", None)
    if running is not None:
        yield running
        return
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        pytestconfig._wenming_browser = b
        try:
            yield b
        finally:
            pytestconfig._wenming_browser = None
            b.close()


@pytest.fixture(autouse=True)
def _fast_hashers(settings):
    """Argon2 is for production; the accounts of these tests log in with a fast hasher."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def shots():
    """Where screenshots go: $WENMING_SHOTS or /tmp/shots-people."""
    folder = Path(os.environ.get("WENMING_SHOTS") or "/tmp/shots-people")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def desktop_page(browser):
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def phone_page(browser):
    context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True,
                                  device_scale_factor=2)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
