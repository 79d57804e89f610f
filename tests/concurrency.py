"""Real concurrency for the PostgreSQL tests: threads, each with its own connection, released together."""

import threading

from django.db import close_old_connections, connection


def run_at_once(n, work):
    """Run work(i) in n threads released together by a barrier; returns (results, errors by index)."""
    barrier = threading.Barrier(n)
    results, errors = [None] * n, {}

    def worker(i):
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as e:  # noqa: BLE001 — reported to the test
            errors[i] = e
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    close_old_connections()
    return results, errors
