import threading

import pytest

from core.test_helpers import create_test_interactive_user
from grievance_social_protection.models import Ticket
from grievance_social_protection.services import TicketService

THREADS = 8
PER_THREAD = 3


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_codes_unique_under_concurrent_creation():
    user = create_test_interactive_user("concurrent_officer", rights=[127001])
    barrier = threading.Barrier(THREADS)
    results, errors = [], []

    def worker(n):
        from django.db import connection as thread_connection

        try:
            barrier.wait()
            for i in range(PER_THREAD):
                result = TicketService(user).create({"category": "Default", "title": f"t{n}-{i}"})
                results.append(result)
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors, errors
    assert all(r["success"] for r in results), [r for r in results if not r["success"]]
    codes = sorted(Ticket.objects.values_list("code", flat=True))
    assert len(codes) == THREADS * PER_THREAD
    assert codes == [f"GRS{i:08d}" for i in range(1, THREADS * PER_THREAD + 1)]
