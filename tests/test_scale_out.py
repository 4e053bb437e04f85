"""Scaled out: two gunicorn app servers (the shipped gunicorn.conf.py) behind a round-robin proxy,
one PostgreSQL, one Redis (cache, sessions, rate limits, the task queue: TASKS_BACKEND=rq), two
rq workers and a real SMTP server. Participants log in and post through the proxy whichever
server answers; the limits hold across servers; every reply's email is sent once."""

import http.client
import itertools
import re
import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection
from django.test import Client

from consultations.models import Comment, Question
from notifications.models import Notification
from tests.conftest import create_consultation, create_user
from tests.processes import (
    RQ_WORKER,
    WAIT,
    Process,
    child_environment,
    free_port,
    http_request,
    require_redis,
    running_smtp_server,
    smtp_environment,
    wait_until_serving,
)
from tests.test_burst import csrf_field, explain, multipart

# A database number of its own; the test empties it before and after.
TEST_REDIS_URL = "redis://127.0.0.1:6379/14"
PASSWORD = "correct horse battery staple"
WRITERS = 3  # odd: each writer's posts, in turn with the others', alternate between servers
POSTS_ALLOWED = 5  # COMMENT_RATE_LIMITS 5/m, the default
SERVED_BY = re.compile(r"^(?P<server>\w+) pid (?P<pid>\d+)$")
COMMENT_LOCATION = re.compile(r"^/consultations/c/(\d+)/$")
JOB_LINE = re.compile(r"default: notifications\.tasks\.send_notification\(\d+\)")
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "content-length"}


class RoundRobinProxy:
    """A load balancer in miniature: one address, each request forwarded to the next server in
    turn (a new connection each time), the answer passed back as it came, cookies included."""

    def __init__(self, ports: list[int]):
        self.ports = ports
        self.turn = itertools.cycle(ports)
        self.lock = threading.Lock()
        self.forwarded: Counter = Counter()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                with proxy.lock:
                    port = next(proxy.turn)
                    proxy.forwarded[port] += 1
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                headers["X-Forwarded-For"] = self.client_address[0]
                upstream = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
                try:
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    response = upstream.getresponse()
                    data = response.read()
                finally:
                    upstream.close()
                self.send_response_only(response.status, response.reason)
                for name, value in response.getheaders():
                    if name.lower() not in HOP_BY_HOP:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_HEAD = forward  # noqa: N815 (http.server's names)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Browser:
    """One participant's cookie jar against the proxy's single address."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.token = ""
        self.served_by: list[str] = []  # the server of each answer, in order

    def request(self, method: str, path: str, *, body: bytes | None = None, **headers):
        headers = {
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
            "Origin": f"http://127.0.0.1:{self.port}",
            "Referer": f"http://127.0.0.1:{self.port}{path}",
            **headers,
        }
        status, response_headers, content = http_request(
            self.port, method, path, headers=headers, body=body
        )
        for value in response_headers.get_all("Set-Cookie") or []:
            name, _, rest = value.split(";", 1)[0].partition("=")
            self.cookies[name] = rest
        served = SERVED_BY.match(response_headers.get("X-Served-By", ""))
        assert served, f"no X-Served-By on {method} {path}: {status}"
        self.served_by.append(served["server"])
        return status, response_headers, content

    def open_form(self, path: str) -> None:
        status, _headers, content = self.request("GET", path)
        assert status == 200, (path, status)
        self.token = csrf_field(content)

    def log_in(self, email: str, password: str):
        self.open_form("/accounts/login/")
        form = urlencode(
            {"csrfmiddlewaretoken": self.token, "login": email, "password": password}
        ).encode()
        return self.request(
            "POST",
            "/accounts/login/",
            body=form,
            **{"Content-Type": "application/x-www-form-urlencoded"},
        )

    def post_comment(self, path: str, text: str, parent: int | None):
        fields = [("csrfmiddlewaretoken", self.token), ("body", text), ("objectives", "10")]
        fields.append(("parent", str(parent) if parent else ""))
        body, content_type = multipart(fields)
        status, headers, content = self.request(
            "POST", path, body=body, **{"Content-Type": content_type}
        )
        return status, headers.get("Location", ""), content, self.served_by[-1]


def with_fast_password(user):
    """A PBKDF2 hash (the servers' hasher; the tests' MD5 is not theirs) of few iterations."""
    user.password = PBKDF2PasswordHasher().encode(PASSWORD, uuid.uuid4().hex[:12], iterations=1000)
    user.save(update_fields=["password"])
    return user


@pytest.fixture
def deployment(tmp_path):
    """Redis, SMTP, two app servers behind the proxy and two workers; yields them all."""
    redis_client = require_redis(TEST_REDIS_URL)
    redis_client.flushdb()
    ports = [free_port(), free_port()]
    proxy = RoundRobinProxy(ports)
    started: list[Process] = []
    with running_smtp_server() as (controller, mailbox):
        common = child_environment(
            **smtp_environment(controller.port),
            TASKS_BACKEND="rq",
            REDIS_URL=TEST_REDIS_URL,
            CACHE_KEY_PREFIX=f"scale-{uuid.uuid4().hex[:8]}",
            ALLOWED_HOSTS="127.0.0.1",
            SITE_URL=f"http://127.0.0.1:{proxy.port}",
            STATIC_ROOT=str(tmp_path / "static"),
            MEDIA_ROOT=str(tmp_path / "media"),  # shared by both servers, as a mount would be
            COMMENT_RATE_LIMITS=f"{POSTS_ALLOWED}/m,60/d",
            NOTIFICATION_COALESCE_SECONDS="0",
            WEB_WORKERS="2",
            WEB_THREADS="2",
        )
        try:
            collect = Process(
                ["manage.py", "collectstatic", "--noinput", "-v0"], common, tmp_path / "c.log"
            ).start()
            assert collect.process.wait(timeout=120) == 0, collect.log()
            servers = []
            for name, port in zip(("a", "b"), ports, strict=True):
                env = {**common, "APP_SERVER_ID": name, "WEB_BIND": f"127.0.0.1:{port}"}
                command = ["-m", "gunicorn", "-c", "gunicorn.conf.py", "forum.wsgi"]
                servers.append(Process(command, env, tmp_path / f"server-{name}.log").start())
            started += servers
            workers = [
                Process(
                    [*RQ_WORKER, "--name", f"scale-worker-{n}-{uuid.uuid4().hex[:6]}"],
                    common,
                    tmp_path / f"worker-{n}.log",
                ).start()
                for n in (1, 2)
            ]
            started += workers
            for port, server in zip(ports, servers, strict=True):
                wait_until_serving(port, server)
            yield {
                "proxy": proxy,
                "servers": servers,
                "workers": workers,
                "mailbox": mailbox,
                "redis": redis_client,
            }
        finally:
            for process in started:
                process.stop(timeout=30)
            proxy.close()
            redis_client.flushdb()
            redis_client.close()


@pytest.mark.postgres
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: the servers, the workers and the test share the test database",
)
# They read what the test commits and the test what they commit (see tests/test_burst.py).
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_app_servers_behind_a_proxy_share_sessions_limits_and_one_queue(deployment):
    started = time.monotonic()
    proxy, mailbox, workers = deployment["proxy"], deployment["mailbox"], deployment["workers"]
    mailbox.delay = 0.2  # each email keeps its worker busy a moment: the other takes the next
    consultation = create_consultation(title="Scaled out", slug="scaled-out")
    question = Question.objects.create(consultation=consultation, number=1, text="Where?")
    path = f"/consultations/{consultation.slug}/questions/{question.number}/comment/"
    writers = [with_fast_password(create_user()) for _ in range(WRITERS)]
    victim = with_fast_password(create_user())

    # Failed logins are counted in Redis, for every server: the sixth in a row is refused,
    # whichever server it reaches.
    intruder = Browser(proxy.port)
    intruder.open_form("/accounts/login/")
    refused_logins = []
    for attempt in range(6):
        form = urlencode(
            {
                "csrfmiddlewaretoken": intruder.token,
                "login": victim.email,
                "password": f"wrong {attempt}",
            }
        ).encode()
        status, _headers, content = intruder.request(
            "POST",
            "/accounts/login/",
            body=form,
            **{"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert status == 200
        refused_logins.append(b"Too many failed login attempts" in content)
    login_servers = set(intruder.served_by[1:])

    # Each writer logs in through the proxy: one server shows the form, the other checks the
    # password and starts the session, and from then on either server knows who it is.
    browsers = []
    for user in writers:
        browser = Browser(proxy.port)
        status, headers, _content = browser.log_in(user.email, PASSWORD)
        assert status == 302, explain(_content)
        assert "sessionid" in browser.cookies
        browser.open_form(path)
        browsers.append(browser)
    assert len({b.served_by[-1] for b in browsers} | {b.served_by[-2] for b in browsers}) == 2

    # In turns: a top-level comment each, then replies to the others' comments, then two posts
    # more than the limit allows. The writers' posts come in turn, so each writer's alternate
    # between the servers.
    tops: dict[int, int] = {}
    posts: list[tuple[int, int, str, str, bytes]] = []  # writer, round, location, server, body
    for round_ in range(POSTS_ALLOWED + 2):
        for n, browser in enumerate(browsers):
            if round_ == 0:
                parent = None
            else:
                parent = tops[(n + 1 + round_ % (WRITERS - 1)) % WRITERS]
            text = f"Writer {n}, round {round_}: {uuid.uuid4().hex[:8]}"
            status, location, content, server = browser.post_comment(path, text, parent)
            if round_ < POSTS_ALLOWED:
                assert status == 302 and COMMENT_LOCATION.match(location), explain(content)
                if round_ == 0:
                    tops[n] = int(COMMENT_LOCATION.match(location).group(1))
            posts.append((n, round_, location, server, content))

    accepted = [p for p in posts if p[1] < POSTS_ALLOWED]
    refused = [p for p in posts if p[1] >= POSTS_ALLOWED]
    replies = Comment.objects.filter(question=question).exclude(parent=None)
    reply_count = replies.count()
    assert reply_count == WRITERS * (POSTS_ALLOWED - 1)

    # Every reply's email, once, sent by either worker.
    mailbox.wait_for(reply_count, *workers)
    time.sleep(1.5)  # long enough for a duplicate to show up, were one coming
    rows = Notification.objects.filter(kind=Notification.Kind.REPLY, comment__in=replies)
    expected = Counter(f"<notification-{r.pk}@127.0.0.1>" for r in rows)
    delivered = Counter(m["Message-ID"] for m in mailbox.messages)
    jobs = [len(JOB_LINE.findall(worker.log())) for worker in workers]
    every_answer = [s for b in [intruder, *browsers] for s in b.served_by]
    per_server = [every_answer.count("a"), every_answer.count("b")]
    elapsed = time.monotonic() - started
    print(
        f"\nscale-out: requests per server {per_server} (proxy forwarded "
        f"{[proxy.forwarded[p] for p in proxy.ports]}), jobs per worker {jobs}, emails "
        f"{sum(delivered.values())} for {reply_count} replies ({len(delivered)} distinct); "
        f"posts accepted {len(accepted)}, refused by the rate limit {len(refused)} on servers "
        f"{sorted(Counter(p[3] for p in refused).items())}; failed logins refused "
        f"{refused_logins} on servers {sorted(login_servers)}; {elapsed:.1f} s"
    )

    # Both servers answered; the session worked on each.
    assert min(per_server) > 0
    for browser in browsers:
        assert {p[3] for p in posts if browsers[p[0]] is browser} == {"a", "b"}
    # The rate limit held across servers: the sixth and seventh posts of every writer were
    # refused, by whichever server they reached, and nothing of theirs was saved.
    for _n, _round, location, _server, content in refused:
        assert location == "" and b"at most 5 comments a minute" in content
    assert {p[3] for p in refused} == {"a", "b"}
    assert Comment.objects.filter(question=question).count() == len(accepted)
    # The login limit too, in the shared cache.
    assert refused_logins == [False] * 5 + [True] and login_servers == {"a", "b"}
    # Every reply's email exactly once, from both workers.
    assert delivered == expected and len(expected) == reply_count
    assert {r.state for r in rows} == {Notification.State.SENT}
    assert sum(jobs) == reply_count and min(jobs) > 0


def test_the_served_by_header_names_the_server_only_when_app_server_id_is_set(settings, db):
    from django.test import override_settings

    assert "X-Served-By" not in Client().get("/healthz").headers
    middleware = ["forum.middleware.ServedByMiddleware", *settings.MIDDLEWARE]
    with override_settings(MIDDLEWARE=middleware, APP_SERVER_ID="web-1"):
        served = Client().get("/healthz")["X-Served-By"]
    assert re.fullmatch(r"web-1 pid \d+", served)
