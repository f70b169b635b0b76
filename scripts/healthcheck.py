"""Container health check of the web service: GET /health on the local gunicorn, exit 0 when it answers "ok".

Sends the first host of ALLOWED_HOSTS as Host header, so the check passes whatever host names are configured."""
import os
import sys
import urllib.request

hosts = [h.strip().lstrip(".") for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
host = next((h for h in hosts if h != "*"), "localhost")
port = os.environ.get("HEALTHCHECK_PORT", "8000")
request = urllib.request.Request(f"http://127.0.0.1:{port}/health", headers={"Host": host})
try:
    with urllib.request.urlopen(request, timeout=5) as response:
        sys.exit(0 if response.status == 200 and response.read().strip() == b"ok" else 1)
except Exception as exc:  # refused, timeout, HTTP error: unhealthy
    print(f"unhealthy: {exc}", file=sys.stderr)
    sys.exit(1)
