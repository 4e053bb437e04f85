"""Security baseline: deploy checks, SECRET_KEY, response headers, no inline script, admin login."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from consultations.models import Comment

BASE_DIR = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"  # the conftest users' password

# The production environment exactly as the README's "Deploying" section documents it
# (REDIS_URL is optional there and needs the redis package, so it is left out).
PRODUCTION_ENV = {
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "consult.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://consult.example.org",
    "SITE_URL": "https://consult.example.org",
    "DATABASE_URL": "postgres://forum:change-me@127.0.0.1:5432/forum",
    "EMAIL_HOST": "smtp.example.org",
    "EMAIL_PORT": "587",
    "EMAIL_HOST_USER": "consultations",
    "EMAIL_HOST_PASSWORD": "not-a-real-password",
    "EMAIL_USE_TLS": "1",
    "DEFAULT_FROM_EMAIL": "consultations@example.org",
    "BEHIND_TLS_PROXY": "1",
}


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    # Only what a process needs to run; none of the developer's or CI's Django variables.
    base = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "TMPDIR"}}
    return subprocess.run(  # noqa: S603 (our own interpreter and manage.py)
        [sys.executable, *args],
        cwd=BASE_DIR,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _deploy_check(env: dict[str, str]) -> subprocess.CompletedProcess:
    return _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)


def test_check_deploy_passes_with_the_readme_production_environment():
    result = _deploy_check(PRODUCTION_ENV)

    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_fails_on_a_warning():
    # Proves the check above has teeth: turning HSTS off is a warning (security.W004).
    result = _deploy_check({**PRODUCTION_ENV, "HSTS_SECONDS": "0"})

    assert result.returncode != 0
    assert "security.W004" in result.stdout + result.stderr


def test_production_variables_are_documented_in_readme_and_env_example():
    readme = (BASE_DIR / "README.md").read_text()
    deploying = readme.split("## Deploying", 1)[1].split("\n## ", 1)[0]
    env_example = (BASE_DIR / ".env.example").read_text()
    names = [*PRODUCTION_ENV, "DEBUG", "HSTS_SECONDS", "SECURE_SSL_REDIRECT", "SECURE_COOKIES"]

    assert [n for n in names if not re.search(rf"`{n}\b", deploying)] == []
    assert [n for n in names if not re.search(rf"^#? ?{n}=", env_example, re.M)] == []
    assert "manage.py check --deploy --fail-level WARNING" in deploying


@pytest.mark.parametrize(
    "args",
    [["manage.py", "check"], ["-c", "import forum.wsgi"]],
    ids=["manage.py", "wsgi"],
)
@pytest.mark.parametrize("debug", [None, "0"], ids=["DEBUG unset", "DEBUG=0"])
def test_app_refuses_to_start_without_secret_key_when_debug_is_off(args, debug):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    if debug is not None:
        env["DEBUG"] = debug

    result = _run(args, env)

    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY is not set" in result.stderr


def test_development_starts_without_secret_key_when_debug_is_on():
    result = _run(["manage.py", "check"], {"DEBUG": "1"})

    assert result.returncode == 0, result.stderr


def test_production_settings_default_to_https_only():
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)"
    )
    env = {**PRODUCTION_ENV, "DJANGO_SETTINGS_MODULE": "forum.settings"}

    result = _run(["-c", code], env)

    assert result.stdout.split() == ["True", "31536000", "True", "True", "True"], result.stderr


# Response headers


@pytest.fixture
def pages(consultation, question, user, post_comment):
    post_comment(question=question, author=user, body="<p>Borders <b>matter</b>.</p>")
    return {
        "home": "/",
        "consultation": consultation.get_absolute_url(),
        "login": "/accounts/login/",
        "signup": "/accounts/signup/",
        "admin login": "/admin/login/",
        "not found": "/no-such-page/",
    }


PAGES = ["home", "consultation", "login", "signup", "admin login", "not found"]


def _assert_security_headers(response):
    headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert "camera=()" in headers["Permissions-Policy"]
    directives = (d.split(None, 1) for d in headers["Content-Security-Policy"].split(";"))
    csp = {name: value for name, value in directives}
    assert "unsafe" not in csp["script-src"]
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'"
    assert csp["object-src"] == "'none'"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["base-uri"] == "'self'"
    assert csp["form-action"] == "'self'"
    return csp


@pytest.mark.parametrize("page", PAGES)
def test_every_page_carries_the_security_headers(client, pages, page):
    response = client.get(pages[page], secure=True)

    csp = _assert_security_headers(response)
    assert csp["style-src"] == "'self'"
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_admin_pages_carry_the_security_headers_with_inline_styles_allowed(client, moderator):
    client.force_login(moderator)

    response = client.get("/admin/consultations/comment/", secure=True)

    assert response.status_code == 200
    csp = _assert_security_headers(response)
    # Django's admin and mptt's tree list write inline styles; scripts stay external.
    assert csp["style-src"] == "'self' 'unsafe-inline'"


def test_security_middleware_keeps_a_policy_a_view_set(rf):
    from forum.middleware import SecurityHeadersMiddleware

    def view(request):
        from django.http import HttpResponse

        response = HttpResponse()
        response["Content-Security-Policy"] = "default-src 'none'"
        return response

    request = rf.get("/")
    request.resolver_match = None
    response = SecurityHeadersMiddleware(view)(request)

    assert response["Content-Security-Policy"] == "default-src 'none'"


def test_plain_http_is_redirected_to_https_when_ssl_redirect_is_on(client, settings, db):
    settings.SECURE_SSL_REDIRECT = True

    response = client.get("/consultations/x/?objective=4")

    assert response.status_code == 301
    assert response.url == "https://testserver/consultations/x/?objective=4"


def test_session_and_csrf_cookies_are_secure_httponly_and_samesite(client, user):
    form = client.get("/accounts/login/")
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})

    csrf = form.cookies[django_settings.CSRF_COOKIE_NAME]
    session = response.cookies[django_settings.SESSION_COOKIE_NAME]
    assert response.status_code == 302
    assert (csrf["secure"], csrf["samesite"]) == (True, "Lax")
    assert (session["secure"], session["httponly"], session["samesite"]) == (True, True, "Lax")


# No inline script (or inline style) on the site's pages

INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.I)
INLINE_STYLE = re.compile(r"<style\b|<[^>]*\sstyle\s*=", re.I)
JAVASCRIPT_URL = re.compile(r"""=\s*["']?\s*javascript:""", re.I)


TEMPLATES = BASE_DIR / "templates"


@pytest.mark.parametrize(
    "pattern",
    [INLINE_SCRIPT, EVENT_HANDLER, INLINE_STYLE, JAVASCRIPT_URL],
    ids=["inline <script>", "on*= handler", "inline style", "javascript: URL"],
)
def test_templates_hold_no_inline_script_or_style(pattern):
    # The CSP forbids them: they would silently stop working in the browser. The admin's own
    # policy allows inline styles, so our admin overrides may use them.
    files = sorted(TEMPLATES.rglob("*.html"))
    if pattern is INLINE_STYLE:
        files = [f for f in files if not f.is_relative_to(TEMPLATES / "admin")]
    found = [
        f"{path.relative_to(BASE_DIR)}:{text.count(chr(10), 0, match.start()) + 1}"
        for path in files
        for text in [path.read_text()]
        for match in pattern.finditer(text)
    ]

    assert files
    assert found == []


@pytest.mark.parametrize("page", ["home", "consultation", "login", "signup"])
def test_rendered_pages_hold_no_inline_script(client, pages, page):
    html = client.get(pages[page]).content.decode()

    assert INLINE_SCRIPT.findall(html) == []
    assert EVENT_HANDLER.findall(html) == []
    assert INLINE_STYLE.findall(html) == []


@pytest.mark.parametrize(
    "path",
    [
        "/admin/",
        "/admin/consultations/consultation/",
        "/admin/consultations/consultation/add/",
        "/admin/consultations/consultation/{consultation}/change/",
        "/admin/consultations/comment/",
        "/admin/consultations/comment/{comment}/change/",
        "/admin/consultations/comment/{comment}/move/",
        "/admin/consultations/moderationaction/",
    ],
)
def test_admin_pages_moderators_use_hold_no_inline_script(client, moderator, pages, path):
    # Django's admin and mptt load every script from a file (data in data-* attributes).
    comment = Comment.objects.get()
    client.force_login(moderator)

    response = client.get(
        path.format(consultation=comment.question.consultation_id, comment=comment.pk)
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert INLINE_SCRIPT.findall(html) == []
    assert EVENT_HANDLER.findall(html) == []


# The admin logs in through the site's rate-limited login


def test_admin_login_hands_over_to_the_site_login_with_next(client, db):
    response = client.get("/admin/login/?next=/admin/consultations/")

    assert response.status_code == 302
    assert response.url == "/accounts/login/?next=/admin/consultations/"


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/admin/", ""])
def test_admin_login_ignores_a_next_outside_the_site(client, db, next_url):
    response = client.get("/admin/login/", {"next": next_url})

    assert response.url == "/accounts/login/?next=/admin/"


def test_anonymous_admin_ends_at_the_site_login(client, db):
    response = client.get("/admin/", follow=True)

    assert response.redirect_chain[-1] == ("/accounts/login/?next=/admin/", 302)
    assert response.status_code == 200
    assert response.templates[0].name == "account/login.html"


def test_admin_login_form_accepts_no_password(client, staff_user):
    response = client.post("/admin/login/", {"username": staff_user.email, "password": PASSWORD})

    assert response.status_code == 405
    assert "_auth_user_id" not in client.session


def test_staff_logging_in_on_the_site_lands_in_the_admin(client, moderator):
    response = client.post(
        "/accounts/login/?next=/admin/consultations/",
        {"login": moderator.email, "password": PASSWORD},
        follow=True,
    )

    assert response.redirect_chain[-1] == ("/admin/consultations/", 302)
    assert response.status_code == 200


def test_logged_in_staff_on_admin_login_goes_to_next(client, staff_user):
    client.force_login(staff_user)

    response = client.get("/admin/login/?next=/admin/password_change/")

    assert response.url == "/admin/password_change/"


def test_logged_in_non_staff_on_admin_login_is_refused_without_a_redirect_loop(client, user):
    client.force_login(user)

    response = client.get("/admin/", follow=True)

    assert response.status_code == 403
    assert response.redirect_chain == [("/admin/login/?next=/admin/", 302)]


def test_repeated_wrong_passwords_for_a_staff_account_are_rate_limited(client, staff_user):
    for _ in range(5):
        response = client.post(
            "/accounts/login/?next=/admin/", {"login": staff_user.email, "password": "guess"}
        )
        assert b"Too many failed login attempts" not in response.content

    response = client.post(
        "/accounts/login/?next=/admin/", {"login": staff_user.email, "password": PASSWORD}
    )

    # Even the right password is refused until the limit expires.
    assert response.status_code == 200
    assert b"Too many failed login attempts" in response.content
    assert "_auth_user_id" not in client.session
