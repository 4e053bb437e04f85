"""Production server configuration: `gunicorn -c gunicorn.conf.py forum.wsgi` (README, Deploying).

Every value can be set from the environment (documented in .env.example). The bound that matters
most is workers x threads: each thread holds at most one PostgreSQL connection (Django keeps one
per thread, for CONN_MAX_AGE seconds), so one instance never opens more than that many. Requests
beyond what the threads can take wait in the listen backlog instead of opening connections.
"""

import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _cores() -> int:
    # The CPUs this process may run on (a container's share), not the machine's.
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


bind = os.environ.get("WEB_BIND", "127.0.0.1:8000")

# Gunicorn's usual 2 x cores + 1, capped so that a large machine does not multiply the database
# connections of every instance: WEB_MAX_WORKERS (8) x WEB_THREADS (4) = 32 at most by default.
workers = _int("WEB_WORKERS", min(2 * _cores() + 1, _int("WEB_MAX_WORKERS", 8)))
# More than one thread selects the gthread worker: a request waiting on the database (a tree
# lock, a slow query) leaves the worker's other threads serving.
threads = _int("WEB_THREADS", 4)

# A worker silent for this long is killed and replaced (gthread workers report while their
# threads work, so this catches a stuck worker, not a slow request).
timeout = _int("WEB_TIMEOUT", 30)
# On restart or deploy, requests in flight get this long to finish.
graceful_timeout = _int("WEB_GRACEFUL_TIMEOUT", 30)
# Seconds an idle keep-alive connection from the proxy stays open; the proxy's must be longer.
keepalive = _int("WEB_KEEPALIVE", 5)
# Connections waiting to be accepted when every thread is busy (a burst queues here).
backlog = _int("WEB_BACKLOG", 2048)

# Each worker is replaced after about this many requests (spread by the jitter so that the
# workers do not restart together): bounds the effect of any slow leak. 0 turns it off.
max_requests = _int("WEB_MAX_REQUESTS", 1000)
max_requests_jitter = _int("WEB_MAX_REQUESTS_JITTER", 100)

# Logs to stdout/stderr, for the process manager or the container runtime to collect. The
# access log starts with the worker's pid and ends with the request's duration in milliseconds.
accesslog = os.environ.get("WEB_ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("WEB_LOG_LEVEL", "info")
access_log_format = '%(p)s %(h)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'

# Heartbeat files in memory: a container's overlay filesystem can stall them into timeouts.
if os.path.isdir("/dev/shm"):  # noqa: S108 (tmpfs, not a shared temporary file)
    worker_tmp_dir = "/dev/shm"  # noqa: S108


def on_starting(server):
    server.log.info(
        "%s workers x %s threads: at most %s database connections from this instance",
        workers,
        threads,
        workers * threads,
    )
