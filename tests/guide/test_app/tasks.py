from celery import shared_task
from django.contrib.auth import get_user_model


@shared_task(name="guide.tasks.close_stale_visits")
def close_stale_visits(username="Admin"):
    from tests.guide.test_app.services import close_stale_visits as close

    return close(get_user_model().objects.get(username=username))
