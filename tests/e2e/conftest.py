"""Browser tests: Playwright drives the system's Chromium against pytest-django's live server.

No browser is ever downloaded (`playwright install` cannot work here): the tests use the Chromium
found on the PATH (Debian's `chromium` package) or at $E2E_CHROMIUM. Without one they skip, unless
E2E_REQUIRED=1 (set by .ci/run), when they fail instead.
"""

import os
import shutil
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connections
from django.test import Client

from accounts.models import User
from consultations.demo_data import OPEN_CONSULTATION
from consultations.models import Consultation, Question
from tests.conftest import create_consultation

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = Path(os.environ.get("E2E_SCREENSHOT_DIR") or REPO_ROOT / "docs" / "screenshots")
# What a person sees at these widths: a desktop browser and a small phone.
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}
TIMEOUT_MS = 10_000  # a page here answers in well under a second; fail fast when it does not
# As machines without a display and without outside network access need them (see the README).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def find_chromium() -> str | None:
    candidates = [os.environ.get("E2E_CHROMIUM", "")]
    candidates += [
        shutil.which(name) or ""
        for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
    ]
    return next((path for path in candidates if path and os.access(path, os.X_OK)), None)


def _thread_storage(local):
    """The plain threading.local behind an asgiref Local(thread_critical=True)."""
    return object.__getattribute__(local, "_storage")


def _unavailable(reason: str) -> None:
    if os.environ.get("E2E_REQUIRED") == "1":
        pytest.fail(f"E2E_REQUIRED=1 but {reason}", pytrace=False)
    pytest.skip(f"{reason} (Debian: apt-get install chromium; or set E2E_CHROMIUM)")


@pytest.fixture(scope="package")
def browser() -> Iterator:
    """One Chromium for all the browser tests, closed when they are done."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[test]')")
    executable = find_chromium()
    if executable is None:
        _unavailable("no Chromium found on the PATH")
    # Playwright's sync API marks its asyncio event loop as running in this thread while it is
    # started, so Django takes the test's own ORM calls for calls from async code. They are not:
    # for the browser tests only, and only while the browser runs, (1) allow them, and (2) keep
    # this thread's database connections. asgiref's thread-critical Local would otherwise hand
    # out new ones inside a "running loop": without the data that serialized_rollback restores
    # from, and beside the connection the live server shares on SQLite.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        patch.setattr(connections, "_connections", _thread_storage(connections._connections))
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=executable, headless=True, args=CHROMIUM_ARGS
            )
            yield chromium
            chromium.close()


@pytest.fixture(autouse=True)
def _plain_http(settings):
    # The live server speaks plain http: cookies marked Secure (the default with DEBUG off)
    # would never come back, and nothing may redirect to https.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.SECURE_SSL_REDIRECT = False
    settings.SECURE_HSTS_SECONDS = 0
    settings.ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http"


@pytest.fixture
def context(browser, live_server) -> Iterator:
    ctx = browser.new_context(
        base_url=live_server.url, locale="en-US", viewport=DESKTOP, accept_downloads=True
    )
    ctx.set_default_timeout(TIMEOUT_MS)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture
def log_in_as(context, live_server):
    """Give the browser a logged-in session for user, without going through the login form."""

    def _log_in(user: User) -> None:
        client = Client()
        client.force_login(user)
        cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
        context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])

    return _log_in


@pytest.fixture
def demo():
    """The demo data (seed_demo) as a person sees it after `make run`; returns the open
    consultation. Its accounts, with DEMO_PASSWORD, are listed in the README."""
    call_command("seed_demo", "--force", stdout=StringIO())
    return Consultation.objects.get(slug=OPEN_CONSULTATION.slug)


def long_body(words: int = 260) -> str:
    """Plain text well past Comment.is_long's threshold, in paragraphs, ending on a marker."""
    sentence = "Safe and regular pathways reduce the risks migrants face at every border. "
    paragraphs = [sentence * (words // 13 // 4 + 1)] * 4
    return "\n\n".join([*paragraphs, "LAST-PARAGRAPH of the long comment."])


def focused(page) -> dict:
    """What has the keyboard focus, and whether a person can see that it has: an outline that is
    not transparent, a box-shadow, or the site's focus highlight (links get a yellow background,
    with a transparent outline that only forced-colours modes paint)."""
    return page.evaluate(
        r"""() => {
          const el = document.activeElement;
          const style = getComputedStyle(el);
          const probe = document.createElement('span');
          probe.style.color = 'var(--c-focus)';
          document.body.append(probe);
          const highlight = getComputedStyle(probe).color;
          probe.remove();
          const transparent = (colour) => /^(transparent|rgba\(.*,\s*0\))$/.test(colour);
          const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0
            && !transparent(style.outlineColor);
          return {
            tag: el.tagName, id: el.id, name: el.getAttribute('name') || '',
            type: el.getAttribute('type') || '', value: el.value || '',
            href: el.getAttribute('href') || '',
            text: el.innerText.trim(),
            visibleFocus:
              outline || style.boxShadow !== 'none' || style.backgroundColor === highlight,
          };
        }"""
    )


AXE_RESULTS = pytest.StashKey[dict]()
IMPACTS = ("critical", "serious", "moderate", "minor")


def record_axe(
    config: pytest.Config, page_name: str, violations: list[dict], version: str
) -> dict[str, int]:
    """Counts of violated rules by impact, kept for the summary at the end of the run."""
    counts = dict.fromkeys(IMPACTS, 0)
    for violation in violations:
        counts[violation["impact"] or "minor"] += 1
    results = config.stash.setdefault(AXE_RESULTS, {})
    results["version"] = version
    results[page_name] = counts
    return counts


def pytest_terminal_summary(terminalreporter, config) -> None:
    results = dict(config.stash.get(AXE_RESULTS, {}))
    if not results:
        return
    version = results.pop("version")
    terminalreporter.section(f"axe-core {version}: rules violated per page, by impact")
    for page_name, counts in results.items():
        detail = ", ".join(f"{impact} {counts[impact]}" for impact in IMPACTS)
        terminalreporter.write_line(f"{page_name:<28} {detail}")


@pytest.fixture
def question():
    """A committed question the live server can show (the e2e tests commit their data)."""
    consultation = create_consultation(title="Safe borders review", slug="safe-borders")
    return Question.objects.create(
        consultation=consultation, number=1, text="What are the key priorities?"
    )
