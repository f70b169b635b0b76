"""A small SMS gateway for the tests, on loopback: a threaded HTTP server on a random port.

Each request is answered by the next scripted behaviour (then ``default``) and recorded (path, headers, body)
*before* it is answered, so a test knows when the gateway "got" a message:

* ``"ok"`` 200 ``{"error": false}``; ``"rejected"`` 200 ``{"error": "…"}``;
* an int: that HTTP status (400, 401, 500, 503 …) with a JSON error body;
* ``("slow", seconds)``: wait, then 200 (a client with a shorter timeout sees a read timeout);
* ``"drop"``: read the request, close the connection without answering;
* ``"hang"``: read the request, then wait until the server stops (for a client killed mid-call).
"""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet tests
        pass

    def do_GET(self):  # noqa: N802
        self._serve()

    def do_POST(self):  # noqa: N802
        self._serve()

    def _serve(self):
        server = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        behaviour = server.record(self.command, self.path, dict(self.headers), body)
        if behaviour == "drop":
            self.close_connection = True
            self.connection.close()
            return
        if behaviour == "hang":
            server.stopping.wait()
            return
        if isinstance(behaviour, tuple) and behaviour[0] == "slow":
            server.stopping.wait(behaviour[1])
            behaviour = "ok"
        if behaviour == "ok":
            self._answer(200, {"error": False, "message": "accepted"})
        elif behaviour == "rejected":
            self._answer(200, {"error": "invalid recipient"})
        else:
            self._answer(int(behaviour), {"error": f"status {behaviour}"})

    def _answer(self, status, payload):
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the client gave up (timeout) meanwhile
            pass


class SMSServer:
    def __init__(self, default="ok"):
        self.default = default
        self.on_request = None  # called (in the server's thread) with each request before it is answered
        self.script = []
        self.received = []
        self._lock = threading.Lock()
        self.got_request = threading.Condition(self._lock)
        self.stopping = threading.Event()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.owner = self
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def answer(self, *behaviours):
        """Script the next answers, in order."""
        with self._lock:
            self.script.extend(behaviours)

    def record(self, method, path, headers, body):
        if self.on_request is not None:
            self.on_request({"method": method, "path": path, "headers": headers, "body": body})
        with self.got_request:
            self.received.append({"method": method, "path": path, "headers": headers, "body": body})
            behaviour = self.script.pop(0) if self.script else self.default
            self.got_request.notify_all()
        return behaviour

    def wait_for_requests(self, count, timeout=30):
        deadline = time.monotonic() + timeout
        with self.got_request:
            while len(self.received) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.got_request.wait(remaining)
        return True

    def messages(self):
        """The inner eGA messages received, decoded."""
        return [json.loads(json.loads(r["body"])["data"]) for r in self.received if r["body"]]
