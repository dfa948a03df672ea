"""The browser tier: the main flows in headless Chromium, against pytest-django's live server.

Debian's ``chromium`` (``/usr/bin/chromium``, or ``ASKPRO_CHROMIUM``) driven by Playwright for
Python; no browser is downloaded. ``scripts/test.sh --tier browser`` runs this directory alone,
on SQLite; the other tiers ignore it (``scripts/test_tiers.py``).

Every page a test opens fails it on a JavaScript console error, an uncaught exception, a
Content-Security-Policy violation (the console's "Refused to …" and the
``securitypolicyviolation`` events an init script records in ``window.__cspViolations``) or a
response with a status of 400 or more, unless the test expects exactly that response
(``Browsing.refused``). Each step leaves a screenshot in
``var/browser-artifacts/<test>/<nn>-<step>.png``, a failure one more (``99-failure.png``).
"""

import io
import os
import re
import shutil
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import quote

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.test.utils import override_settings

from integrations_app import roles
from tests.support import BASE_DIR

CHROMIUM = os.environ.get("ASKPRO_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = BASE_DIR / "var" / "browser-artifacts"
PASSWORD = "browser-test-password-7"  # test accounts of a throwaway database only
ACCOUNTS = {"support": roles.SUPPORT, "manager": roles.MANAGER, "readonly": roles.READ_ONLY}
TIMEOUT_MS = 20_000

# Runs before any script of every document (Playwright injects it past the page's CSP).
CSP_RECORDER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    `${event.effectiveDirective} refused ${event.blockedURI || "inline"}`
    + ` (${event.sourceFile || document.location.pathname}:${event.lineNumber})`
    + (event.sample ? ` sample: ${event.sample}` : "")
  );
});
"""


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: a flow in headless Chromium (the browser tier)")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.browser_failed = report.failed
    return report


@pytest.fixture(scope="session")
def _plain_http():
    """The live server speaks plain HTTP on localhost: a tier's DATABASE_URL makes the settings
    production-like (redirect to HTTPS, Secure cookies), which a browser on http:// can't use.
    Set before the server's thread builds its middleware."""
    with override_settings(
        SECURE_SSL_REDIRECT=False, SESSION_COOKIE_SECURE=False, CSRF_COOKIE_SECURE=False
    ):
        yield


@pytest.fixture(scope="session")
def live_server(_plain_http, live_server):
    return live_server


@pytest.fixture(scope="package")
def browser():
    """One headless Chromium for all the browser tests, closed after them: Playwright's sync
    API keeps an asyncio loop running in this thread meanwhile, and Django refuses ORM calls
    there unless DJANGO_ALLOW_ASYNC_UNSAFE says that these (the tests' own set-up and checks,
    plain synchronous code) are fine."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"no Chromium at {CHROMIUM}: install it with `sudo apt-get install -y chromium` "
            "(scripts/test.sh does) or name it with ASKPRO_CHROMIUM"
        )
    from playwright.sync_api import sync_playwright

    args = ["--disable-dev-shm-usage"] + (["--no-sandbox"] if os.geteuid() == 0 else [])
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        yield chromium
        chromium.close()


@pytest.fixture
def accounts(transactional_db):
    """The three roles and one staff account per role (user name = the role's demo account)."""
    call_command("setup_roles", stdout=io.StringIO())
    for name, role in ACCOUNTS.items():
        user = User.objects.create_user(name, password=PASSWORD, is_staff=True)
        user.groups.add(Group.objects.get(name=role))
    return ACCOUNTS


@pytest.fixture
def demo(transactional_db, gateway_key):
    """The synthetic demo dataset (seed_demo), as the console's demo shows it."""
    call_command("seed_demo", stdout=io.StringIO())


@pytest.fixture
def browsing(request, browser, live_server, accounts):
    """A fresh browser context in a language (``de-DE``, or the locale a test parametrizes
    ``browsing`` with, indirectly) and the checks of every page it opens."""
    locale = getattr(request, "param", None) or "de-DE"
    folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name).strip("_")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    context = browser.new_context(
        locale=locale,
        base_url=live_server.url,
        viewport={"width": 1280, "height": 900},
        timezone_id="Europe/Berlin",
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(CSP_RECORDER)
    page = context.new_page()
    session = Browsing(page, live_server.url, folder, locale.split("-")[0])
    yield session
    if getattr(request.node, "browser_failed", False):
        with suppress(Exception):  # the failure itself is what gets reported
            page.screenshot(path=folder / "99-failure.png", full_page=True)
    context.close()


class Browsing:
    """One page of a browser context, watched: each ``step`` checks what happened since the
    previous one and saves a screenshot."""

    def __init__(self, page, base_url: str, folder: Path, language: str):
        self.page, self.base_url, self.folder, self.language = page, base_url, folder, language
        self.problems: list[str] = []
        self.expected: list[tuple[int, str]] = []  # (status, path) a test refuses on purpose
        self.refusals: list[str] = []
        self.steps = 0
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"uncaught exception: {error}"))
        page.on("response", self._response)

    # --- what the page reports ---------------------------------------------------------------

    def _is_expected(self, status: int, url: str) -> bool:
        path = url.removeprefix(self.base_url).split("?")[0]
        return any(status == s and path == p for s, p in self.expected)

    def _console(self, message):
        if message.type != "error":
            return
        text, url = message.text, (message.location or {}).get("url", "")
        refused = re.match(r"Failed to load resource: .* status of (\d+)", text)
        if refused and self._is_expected(int(refused.group(1)), url):
            return  # Chromium's own note on the response the test expects
        self.problems.append(f"console error on {self.page.url}: {text}")

    def _response(self, response):
        if response.status < 400:
            return
        request = response.request
        if self._is_expected(response.status, response.url):
            self.refusals.append(f"{response.status} {request.method} {response.url}")
            return
        self.problems.append(f"HTTP {response.status} on {request.method} {response.url}")

    # --- steps -------------------------------------------------------------------------------

    def step(self, name: str, *, language: bool = True) -> None:
        """Check the page as it is now (and everything since the last step); screenshot it.
        ``language``: the page must be in the context's language (the 403/404 pages too)."""
        page = self.page
        page.wait_for_load_state("load")
        violations = page.evaluate("window.__cspViolations || []")
        self.steps += 1
        page.screenshot(path=self.folder / f"{self.steps:02d}-{name}.png", full_page=True)
        problems = [*self.problems, *(f"CSP violation on {page.url}: {v}" for v in violations)]
        self.problems = []
        assert not problems, f"step {self.steps:02d}-{name}:\n  " + "\n  ".join(problems)
        lang = page.get_attribute("html", "lang")
        assert not language or lang == self.language, (
            f"step {name}: the page is in {lang!r}, not {self.language}"
        )

    def open(self, path: str, name: str, *, language: bool = True):
        self.page.goto(path)
        self.step(name, language=language)
        return self.page

    def click(self, selector: str, name: str):
        """Click what leads to another page (a link, a submit button) and check that page."""
        with self.page.expect_navigation():
            self.page.locator(selector).first.click()
        self.step(name)
        return self.page

    def choose(self, select: str, label: str) -> None:
        """Choose ``label`` in an admin autocomplete (select2: a company or branch on add and
        change pages) by typing the start of it and clicking the result, as a person does."""
        page = self.page
        page.locator(f"{select} + .select2 .select2-selection").click()
        # select2 searches a moment after the typing: wait for that answer before choosing,
        # or it arrives while the test goes on (on the test's SQLite beside a write: "table is
        # locked"); a person waits for the list too.
        term = label[:9]
        with page.expect_response(
            lambda response: "/autocomplete/" in response.url and quote(term) in response.url
        ):
            page.locator(".select2-search__field").fill(term)
        page.locator(".select2-results__option", has_text=label).first.click()

    def login(self, username: str) -> None:
        page = self.page
        response = page.goto("/admin/login/")
        # The checks below mean something only when the policy is sent (django-csp).
        assert "content-security-policy" in response.headers, "no Content-Security-Policy"
        self.step(f"login-{username}")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        self.click("#login-form [type=submit]", "logged-in")
        assert page.url.rstrip("/").endswith("/admin"), f"login as {username} failed: {page.url}"

    @contextmanager
    def refused(self, status: int, path: str):
        """Inside: a response ``status`` for ``path`` is what the test wants (and must come)."""
        entry = (status, path)
        self.expected.append(entry)
        seen = len(self.refusals)
        try:
            yield
        finally:
            self.expected.remove(entry)
        assert len(self.refusals) > seen, f"expected HTTP {status} for {path}, none came"

    def submit_form(self, action: str, fields: dict, token: str) -> None:
        """POST a form to ``action`` with a CSRF token taken from one of the console's pages,
        as a hand-made form or a stale page would, and wait for the answer."""
        with self.page.expect_navigation():
            self.page.evaluate(
                """([action, fields]) => {
                  const form = document.createElement("form");
                  form.method = "post";
                  form.action = action;
                  for (const [name, value] of Object.entries(fields)) {
                    const input = document.createElement("input");
                    input.type = "hidden";
                    input.name = name;
                    input.value = value;
                    form.appendChild(input);
                  }
                  document.body.appendChild(form);
                  form.submit();
                }""",
                [action, {**{k: str(v) for k, v in fields.items()}, "csrfmiddlewaretoken": token}],
            )
