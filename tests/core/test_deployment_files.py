"""Deployment files (issue 16 item 9): checked as text, docker is not needed to run the suite."""
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _read(name):
    return (ROOT / name).read_text()


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_image():
    ignored = {line.strip() for line in _read(".dockerignore").splitlines() if line.strip() and not line.startswith("#")}
    for entry in (".env", ".venv/", "db.sqlite3*", ".git/", "media/", "staticfiles/", "**/__pycache__/",
                  ".pytest_cache/", ".hypothesis/", ".import_linter_cache/"):
        assert entry in ignored, entry


def test_image_runs_as_an_unprivileged_user():
    users = re.findall(r"^USER\s+(\S+)", _read("Dockerfile"), re.M)
    assert users and users[-1] not in ("root", "0")


def test_compose_has_no_password_and_does_not_override_the_env_file():
    compose = _read("docker-compose.yml")
    assert "env_file: [.env]" in compose
    assert "POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?" in compose and "SECRET_KEY: ${SECRET_KEY:?" in compose
    assert not re.search(r"postgres://[^:$]+:[^$@]+@", compose)  # no literal password in a URL
    block = compose.split("  environment:\n", 1)[1].split("  depends_on:", 1)[0]
    for line in block.strip().splitlines():  # each application variable: the .env value, else a default
        name, value = (part.strip() for part in line.split(":", 1))
        assert value.startswith("${" + name + ":-") or value.startswith("${" + name + ":?"), line
    # x-app (web, worker, beat, migrate overrides it with "no"), db and redis restart unless stopped
    assert "restart: unless-stopped" in compose.split("services:", 1)[0]
    assert compose.count("restart: unless-stopped") == 3 and 'restart: "no"' in compose
    assert compose.count("healthcheck:") >= 4  # db, redis, web, worker
    assert '"${WEB_PORT:-127.0.0.1:8000}:8000"' in compose


def test_env_example_documents_the_database_password():
    example = _read(".env.example")
    assert re.search(r"^POSTGRES_PASSWORD=", example, re.M) and re.search(r"^SECRET_KEY=", example, re.M)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_web_healthcheck_script_passes_against_a_running_server(live_server):
    port = str(urlparse(live_server.url).port)
    env = {**os.environ, "HEALTHCHECK_PORT": port, "ALLOWED_HOSTS": "localhost"}
    assert subprocess.run([sys.executable, str(ROOT / "scripts/healthcheck.py")], env=env, timeout=30).returncode == 0
    env["HEALTHCHECK_PORT"] = "1"  # nothing listens there
    assert subprocess.run([sys.executable, str(ROOT / "scripts/healthcheck.py")], env=env, capture_output=True,
                          timeout=30).returncode == 1
