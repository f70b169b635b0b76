"""A stand-in for one gunicorn worker (used by test_rights_cache.py): its own process, its own per-process cache,
the shared database. Reads JSON commands on stdin, serves each through the full HTTP stack (django.test.Client,
every middleware), answers one JSON line per command: ``{"method", "path", "body", "token"}`` → ``{"status",
"body"}``."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openimis_be.test_settings")

import django  # noqa: E402

django.setup()

from django.test import Client  # noqa: E402


def main():
    client = Client()
    print(json.dumps({"ready": os.getpid()}), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        headers = {"HTTP_AUTHORIZATION": f"Bearer {command['token']}"} if command.get("token") else {}
        if command["method"] == "GET":
            response = client.get(command["path"], **headers)
        else:
            response = client.post(command["path"], json.dumps(command["body"]), content_type="application/json",
                                   **headers)
        try:
            body = response.json()
        except ValueError:
            body = response.content.decode(errors="replace")
        print(json.dumps({"status": response.status_code, "body": body}), flush=True)


if __name__ == "__main__":
    main()
