"""A loopback SMTP server (aiosmtpd) in a process of its own that counts what it accepts: the
receiving end of `benchmark_digests`, so that the sender's figures are not the server's."""

import multiprocessing
import socket


class _Counter:
    def __init__(self, received, addresses):
        self.received, self.addresses = received, addresses

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        with self.received.get_lock():
            self.received.value += 1
        return "250 Message accepted for delivery"


def _serve(port, received, addresses, ready, stop) -> None:
    from aiosmtpd.controller import Controller

    controller = Controller(_Counter(received, addresses), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpSink:
    """with SmtpSink() as sink: send to 127.0.0.1:sink.port; sink.received counts messages."""

    def __init__(self):
        context = multiprocessing.get_context("spawn")
        self.port = free_port()
        self._received = context.Value("i", 0)
        self._ready, self._stop = context.Event(), context.Event()
        self._process = context.Process(
            target=_serve,
            args=(self.port, self._received, None, self._ready, self._stop),
            daemon=True,
        )

    @property
    def received(self) -> int:
        return self._received.value

    def __enter__(self) -> "SmtpSink":
        self._process.start()
        if not self._ready.wait(30):
            self._process.kill()
            raise RuntimeError("the SMTP server did not start")
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()
