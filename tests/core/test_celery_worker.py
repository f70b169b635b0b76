"""End to end: an async mutation executed by a real celery worker on Redis (run by .ci/run)."""
import time

import pytest
from django.test import override_settings

from core.models import MutationLog, Role

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@override_settings(ASYNC_MUTATIONS=True, CELERY_TASK_ALWAYS_EAGER=False)
def test_async_mutation_runs_in_worker(admin_user, gql):
    from openimis_be.celery import app

    app.conf.task_always_eager = False
    client = gql(admin_user)
    content = client.query('mutation { createRole(input: {clientMutationId: "e2e-1", name: "Worker made", '
                           'rightsId: [121701]}) { clientMutationId internalId } }')
    log_id = content["data"]["createRole"]["internalId"]
    deadline = time.time() + 60
    log = MutationLog.objects.get(id=log_id)
    while log.status == MutationLog.RECEIVED and time.time() < deadline:
        time.sleep(0.5)
        log.refresh_from_db()
    assert log.status == MutationLog.SUCCESS, log.error
    assert Role.objects.filter(name="Worker made").exists()
    polled = client.data('{ mutationLogs(clientMutationId: "e2e-1") { edges { node { status } } } }')
    assert polled["mutationLogs"]["edges"][0]["node"]["status"] == 2
