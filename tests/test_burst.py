"""A burst of comments over real HTTP, served by gunicorn with the shipped gunicorn.conf.py."""

import http.client
import os
import random
import re
import runpy
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import quote, urlencode

import psycopg2
import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from consultations import services, trees
from consultations.models import Comment, Question
from tests.conftest import create_consultation, create_user
from tests.consultations.test_concurrency import independent_tree_check

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: the server process and the test share the test database",
    ),
    # The server process reads what the test commits (users, sessions, the question), and the
    # test reads what the server commits. serialized_rollback restores the data migrations' rows
    # after the flush, as in tests/consultations/test_concurrency.py.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

ROOT = Path(__file__).resolve().parent.parent
WRITERS = 60
# Each writer's five posts, shuffled: replies into the one shared thread, a new top-level
# thread, and replies into the new threads of any writer.
PLAN = [
    "thread reply",
    "thread reply",
    "top level",
    "reply to a new thread",
    "reply to a new thread",
]
# The server's connections carry this name (one per test run), so the sampler counts only theirs.
APP_NAME = f"forum-burst-test-{os.getpid()}"
WAIT = 120  # seconds: a bound for the whole burst, which should take a few
# The comment's permalink (consultations:permalink).
COMMENT_LOCATION = re.compile(r"^/consultations/c/(\d+)/$")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_environment(port: int, static_root: Path, media_root: Path) -> dict[str, str]:
    db = connection.settings_dict  # the test database (test_<name>), set up by pytest-django
    credentials = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    env = {
        key: value
        for key, value in os.environ.items()
        # The server takes the production defaults, not whatever this shell has set.
        if not key.startswith(("WEB_", "DJANGO_")) and key not in {"REDIS_URL", "CONN_MAX_AGE"}
    }
    env.update(
        {
            "DATABASE_URL": (
                f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/"
                f"{db['NAME']}?application_name={APP_NAME}"
            ),
            # Production settings (DEBUG off), with the test's key: the sessions it signs in
            # the test process are read by the server.
            "DEBUG": "0",
            "SECRET_KEY": settings.SECRET_KEY,
            "ALLOWED_HOSTS": "127.0.0.1",
            "SITE_URL": f"http://127.0.0.1:{port}",
            "STATIC_ROOT": str(static_root),
            "MEDIA_ROOT": str(media_root),
            "WEB_BIND": f"127.0.0.1:{port}",
            # Five posts a minute per author would be just enough; the burst is not about limits.
            "COMMENT_RATE_LIMITS": "100/m,1000/d",
        }
    )
    env.pop("EMAIL_HOST", None)
    return env


class Server:
    def __init__(self, port: int, env: dict[str, str], log_path: Path):
        self.port, self.env, self.log_path = port, env, log_path
        # What gunicorn.conf.py (plain Python) computes in the server's environment.
        with pytest.MonkeyPatch.context() as patch:
            for key in list(os.environ):
                patch.delenv(key)
            for key, value in env.items():
                patch.setenv(key, value)
            config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
        self.workers, self.threads = config["workers"], config["threads"]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture(scope="module")
def server(django_db_setup, tmp_path_factory):
    base = tmp_path_factory.mktemp("burst")
    port = free_port()
    env = server_environment(port, base / "static", base / "media")
    # Production serves collected, hashed static files (CompressedManifestStaticFilesStorage).
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    log_path = base / "gunicorn.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "forum.wsgi"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    running = Server(port, env, log_path)
    try:
        wait_until_serving(port, process, running)
        yield running
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until_serving(port: int, process: subprocess.Popen, server: Server) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gunicorn exited with {process.returncode}:\n{server.log()}")
        try:
            status, _headers, _body = http_request(port, "GET", "/readyz")
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"gunicorn did not serve within 60 s:\n{server.log()}")


def http_request(port: int, method: str, path: str, *, headers=None, body: bytes | None = None):
    """One request on a new connection, as a browser tab would open; (status, headers, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def multipart(fields: list[tuple[str, str]]) -> tuple[bytes, str]:
    """The comment form is multipart/form-data (it carries an attachments input)."""
    boundary = f"----burst{uuid.uuid4().hex}"
    parts = []
    for name, value in fields:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        )
    parts.append(f"--{boundary}--\r\n")
    return "".join(parts).encode(), f"multipart/form-data; boundary={boundary}"


def cookie(headers, name: str) -> str:
    for value in headers.get_all("Set-Cookie") or []:
        if value.startswith(f"{name}="):
            return value.split(";", 1)[0].split("=", 1)[1]
    raise AssertionError(f"no {name} cookie set")


def csrf_field(html: bytes) -> str:
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, "no CSRF token in the form"
    return match.group(1).decode()


class Browser:
    """A logged-in participant's cookies and CSRF token, as a browser holds them."""

    def __init__(self, port: int, session_key: str):
        self.port = port
        self.cookies = {"sessionid": session_key}
        self.token = ""

    def headers(self, **extra) -> dict[str, str]:
        return {
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
            "Origin": f"http://127.0.0.1:{self.port}",
            **extra,
        }

    def open_form(self, path: str) -> None:
        status, headers, body = http_request(self.port, "GET", path, headers=self.headers())
        assert status == 200, status
        self.cookies["csrftoken"] = cookie(headers, "csrftoken")
        self.token = csrf_field(body)

    def post_comment(self, path: str, text: str, parent: int | None):
        fields = [("csrfmiddlewaretoken", self.token), ("body", text), ("objectives", "10")]
        fields.append(("parent", str(parent) if parent else ""))
        body, content_type = multipart(fields)
        headers = self.headers(**{"Content-Type": content_type, "Referer": self.url(path)})
        return http_request(self.port, "POST", path, headers=headers, body=body)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def session_for(user) -> str:
    """A session as a successful login leaves it, saved where the server reads sessions."""
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


class ConnectionSampler(threading.Thread):
    """Samples how many PostgreSQL connections the server holds, from pg_stat_activity."""

    def __init__(self):
        super().__init__(daemon=True)
        db = connection.settings_dict
        self.conn = psycopg2.connect(
            host=db["HOST"] or "127.0.0.1",
            port=db["PORT"] or 5432,
            user=db["USER"],
            password=db["PASSWORD"],
            dbname=db["NAME"],
        )
        self.conn.autocommit = True
        self.stop = threading.Event()
        self.peak = 0
        self.peak_all = 0
        self.at_peak: list[tuple] = []

    def sample(self) -> tuple[int, int]:
        with self.conn.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FILTER (WHERE application_name = %s AND datname = "
                "current_database()), count(*) "
                "FROM pg_stat_activity WHERE backend_type = 'client backend'",
                [APP_NAME],
            )
            return cursor.fetchone()

    def run(self):
        while not self.stop.is_set():
            ours, everyone = self.sample()
            if ours > self.peak:
                self.at_peak = self.details()
            self.peak, self.peak_all = max(self.peak, ours), max(self.peak_all, everyone)
            time.sleep(0.01)

    def details(self) -> list[tuple]:
        """The server's connections at the peak: which client port, since when, doing what."""
        with self.conn.cursor() as cursor:
            cursor.execute(
                "SELECT client_port, backend_start::time, state, left(query, 60) "
                "FROM pg_stat_activity WHERE application_name = %s ORDER BY backend_start",
                [APP_NAME],
            )
            return cursor.fetchall()

    def max_connections(self) -> int:
        with self.conn.cursor() as cursor:
            cursor.execute("SHOW max_connections")
            return int(cursor.fetchone()[0])

    def close(self):
        self.stop.set()
        self.join(10)
        self.conn.close()


def explain(html: bytes) -> str:
    """The error messages of a form page that came back instead of the redirect."""
    found = re.findall(
        rb'class="(?:message message--error|field__error)"[^>]*>(.*?)</p>', html, re.S
    )
    return " / ".join(m.decode(errors="replace").strip() for m in found) or html[:300].decode()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def test_a_burst_of_posts_is_all_saved_once_without_a_server_error(server):
    consultation = create_consultation(title="Burst", slug="burst")
    question = Question.objects.create(consultation=consultation, number=1, text="All at once?")
    authors = [create_user(display_name=f"Burst writer {n}") for n in range(WRITERS)]
    root = services.comment_create(question=question, author=authors[0], body="The thread")
    path = f"/consultations/{consultation.slug}/questions/{question.number}/comment/"
    browsers = [Browser(server.port, session_for(author)) for author in authors]

    sampler = ConnectionSampler()
    max_connections = sampler.max_connections()
    bound = server.workers * server.threads
    # The configuration keeps the server's connections under PostgreSQL's limit with room to
    # spare (migrations, the admin, this test's own connections, other clients).
    assert bound <= max_connections - 10, (bound, max_connections)

    thread_ids = [root.pk]  # the shared thread, for replies to pick from
    new_tops: list[int] = []
    shared = threading.Lock()
    results: list[tuple[str, int, str, float]] = []  # text, status, location, seconds
    errors: list[str] = []
    refusals: list[str] = []
    barrier = threading.Barrier(WRITERS + 1, timeout=WAIT)

    def writer(n: int) -> None:
        rng = random.Random(n)
        plan = PLAN[:]
        rng.shuffle(plan)
        browser = browsers[n]
        try:
            browser.open_form(path)
            barrier.wait()
            for i, kind in enumerate(plan):
                with shared:
                    pool = thread_ids if kind == "thread reply" else new_tops or thread_ids
                    parent = None if kind == "top level" else rng.choice(pool)
                text = f"Burst writer {n}, post {i} ({kind})"
                started = time.monotonic()
                status, headers, body = browser.post_comment(path, text, parent)
                elapsed = time.monotonic() - started
                location = headers.get("Location", "")
                with shared:
                    results.append((text, status, location, elapsed))
                    if status != 302:
                        refusals.append(f"{text} (parent {parent}): {status} {explain(body)}")
                    match = COMMENT_LOCATION.match(location)
                    if status == 302 and match:
                        pk = int(match.group(1))
                        if kind == "thread reply":
                            thread_ids.append(pk)
                        elif kind == "top level":
                            new_tops.append(pk)
        except BaseException as exc:
            barrier.abort()
            errors.append(f"writer {n}: {exc!r}")

    threads = [threading.Thread(target=writer, args=(n,), daemon=True) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    sampler.start()
    try:
        barrier.wait()
        started = time.monotonic()
        for thread in threads:
            thread.join(WAIT)
        elapsed = time.monotonic() - started
    finally:
        sampler.close()
    assert not any(thread.is_alive() for thread in threads)

    statuses = Counter(status for _, status, _, _ in results)
    latencies = [seconds for *_, seconds in results]
    posts = len(results)
    print(
        f"\nburst: {WRITERS} writers x {len(PLAN)} posts = {posts} posts over HTTP in "
        f"{elapsed:.2f} s ({posts / elapsed:.0f} posts/s); latency p50 "
        f"{statistics.median(latencies) * 1000:.0f} ms, p95 "
        f"{percentile(latencies, 0.95) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms; "
        f"statuses {dict(sorted(statuses.items()))}; gunicorn {server.workers} workers x "
        f"{server.threads} threads; PostgreSQL connections of the server at most "
        f"{sampler.peak} (bound {bound}), of all clients {sampler.peak_all}, "
        f"max_connections {max_connections}"
    )
    assert errors == [], errors
    assert refusals == [], refusals
    assert posts == WRITERS * len(PLAN)
    server_errors = [r for r in results if r[1] >= 500]
    assert server_errors == [], server_log_tail(server)
    # Every post answered with the success redirect to its comment.
    wrong = [
        (text, status, loc) for text, status, loc, _ in results if not COMMENT_LOCATION.match(loc)
    ]
    assert statuses == {302: posts} and wrong == []
    # The configuration's bound held.
    assert 0 < sampler.peak <= bound, (sampler.at_peak, server_events(server))

    # Nothing lost, nothing duplicated: every body stored exactly once, under the id it was
    # announced with.
    announced = {int(COMMENT_LOCATION.match(loc).group(1)): text for text, _, loc, _ in results}
    assert len(announced) == posts
    stored = dict(Comment.objects.filter(question=question).values_list("pk", "body"))
    assert set(stored) == {root.pk, *announced}
    assert all(stored[pk] == f"<p>{text}</p>" for pk, text in announced.items())
    assert max(Counter(stored.values()).values()) == 1
    assert Comment.objects.filter(question=question, parent=None).count() == 1 + WRITERS

    # Trees intact: by consultations.trees, and by the concurrency test's own check.
    check = trees.check_trees()
    assert check.ok, check.corrupt
    rows = list(
        Comment.objects.order_by().values_list("pk", "parent_id", "tree_id", "lft", "rght", "level")
    )
    assert independent_tree_check(rows) == []


def server_events(server: Server) -> list[str]:
    """Gunicorn's own lines (workers booted, timed out, exiting), without the access log."""
    return [line for line in server.log().splitlines() if line.startswith("[")]


def server_log_tail(server: Server, lines: int = 80) -> str:
    return "\n".join(server.log().splitlines()[-lines:])


def test_failed_logins_are_counted_once_for_all_workers(server):
    """allauth's limit on failed logins lives in the shared cache (here the database cache), so
    every worker counts the same attempts: the sixth wrong password in a row is refused."""
    victim = create_user(email="target@example.org")
    refused = []
    for attempt in range(6):
        browser = Browser(server.port, session_key="")
        browser.cookies.clear()
        status, headers, body = http_request(server.port, "GET", "/accounts/login/")
        assert status == 200
        browser.cookies["csrftoken"] = cookie(headers, "csrftoken")
        form = urlencode(
            {
                "csrfmiddlewaretoken": csrf_field(body),
                "login": victim.email,
                "password": f"wrong password {attempt}",
            }
        ).encode()
        status, _headers, body = http_request(
            server.port,
            "POST",
            "/accounts/login/",
            headers=browser.headers(**{"Content-Type": "application/x-www-form-urlencoded"}),
            body=form,
        )
        assert status == 200
        refused.append(b"Too many failed login attempts" in body)
    pids = set(re.findall(r"<(\d+)> 127\.0\.0\.1 \"POST /accounts/login/", server.log()))
    print(f"\nfailed logins: refused {refused}, served by {len(pids)} worker(s)")

    assert refused == [False] * 5 + [True]


def test_connections_dropped_between_requests_are_replaced_without_an_error(server):
    """A failover or an administrator ends the server's idle connections: with the shipped
    CONN_HEALTH_CHECKS each thread notices before its next request and reconnects, so no
    participant sees the dropped connection."""
    for _ in range(20):  # several threads now hold a persistent connection
        assert http_request(server.port, "GET", "/readyz")[0] == 200
    sampler = ConnectionSampler()
    try:
        with sampler.conn.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = %s",
                [APP_NAME],
            )
            terminated = cursor.fetchone()[0]
    finally:
        sampler.conn.close()

    statuses = Counter(http_request(server.port, "GET", "/readyz")[0] for _ in range(40))

    assert terminated > 0
    assert statuses == {200: 40}, server_log_tail(server)
