"""The sanitiser under gunicorn's threads: concurrent calls each get their own text back."""

import threading

from consultations.sanitize import sanitize_comment

THREADS = 8
ROUNDS = 150


def test_threads_sanitising_at_once_each_get_their_own_result():
    # bleach's Cleaner keeps parser state between calls; a shared one mixes up or drops the
    # texts of threads that clean at the same moment (seen as empty comments in the burst test).
    texts = [
        f"Writer {n}: see https://example.org/{n}\n\nA <b>second</b> paragraph {'x' * n}"
        for n in range(THREADS)
    ]
    expected = [sanitize_comment(text) for text in texts]
    barrier = threading.Barrier(THREADS)
    wrong: list[str] = []

    def clean(n: int) -> None:
        barrier.wait()
        for _ in range(ROUNDS):
            result = sanitize_comment(texts[n])
            if result != expected[n]:
                wrong.append(f"thread {n}: {result!r}")

    threads = [threading.Thread(target=clean, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert wrong == [], wrong[:3]
