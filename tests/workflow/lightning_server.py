"""A small OpenFn Lightning stand-in on loopback for the tests: a real HTTP server in a thread, so the adaptor's
HTTP layer (sessions, headers, JSON bodies, timeouts, transport errors) runs for real.

``server.projects`` maps project id → {"name", "workflows": [{"name", "triggers": [{"type", "id"}]}]};
``server.behaviour[path] = ("status", 503) | ("hang", seconds) | ("drop",) | ("text", body)`` overrides an answer;
``server.requests`` records (method, path, authorization header, decoded JSON body or None)."""
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

API_KEY = "test-lightning-key"


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):  # a dropped connection is the point of some tests
        pass


class LightningServer:
    def __init__(self, api_key=API_KEY):
        self.api_key = api_key
        self.projects = {}
        self.behaviour = {}
        self.requests = []
        self._release = threading.Event()
        self._httpd = _QuietServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="lightning-stub", daemon=True)

    @property
    def port(self):
        return self._httpd.server_address[1]

    @property
    def url(self):
        return "http://127.0.0.1"

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._release.set()  # hanging answers end now
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def add_project(self, name, workflows, project_id=None):
        project_id = project_id or str(uuid.uuid4())
        self.projects[project_id] = {"name": name, "workflows": workflows}
        return project_id

    # --- the routes ---------------------------------------------------------------------------------------
    def answer(self, method, path, body):
        if method == "GET" and path == "/api/projects/":
            return 200, {"data": [{"id": pid, "type": "projects", "attributes": {"name": p["name"]}}
                                  for pid, p in self.projects.items()]}
        if method == "GET" and path.startswith("/api/provision/"):
            project = self.projects.get(path.rsplit("/", 1)[1])
            if project is None:
                return 404, {"error": "not found"}
            return 200, {"data": {"id": path.rsplit("/", 1)[1], "name": project["name"],
                                  "workflows": project["workflows"]}}
        if method == "POST" and path.startswith("/i/"):
            return 200, {"work_order_id": str(uuid.uuid4()), "received": body}
        return 404, {"error": "not found"}

    def _handler_class(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet test output
                pass

            def _serve(self, method):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = {"not_json": raw.decode(errors="replace")}
                server.requests.append((method, self.path, self.headers.get("Authorization"), body,
                                        self.headers.get("Content-Type")))
                special = server.behaviour.get(self.path)
                if special and special[0] == "hang":
                    server._release.wait(special[1])
                    return
                if special and special[0] == "drop":
                    self.close_connection = True
                    self.connection.close()  # no status line: the client sees the connection dropped
                    return
                if self.headers.get("Authorization") != f"Bearer {server.api_key}":
                    return self._send(401, b'{"error": "unauthorized"}')
                if special and special[0] == "status":
                    return self._send(special[1], b'{"error": "engine says no"}')
                if special and special[0] == "text":
                    return self._send(200, special[1].encode(), "text/html")
                status, payload = server.answer(method, self.path, body)
                self._send(status, json.dumps(payload).encode())

            def _send(self, status, content, content_type="application/json"):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def do_GET(self):
                self._serve("GET")

            def do_POST(self):
                self._serve("POST")

        return Handler
