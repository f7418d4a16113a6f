"""Webhook receiver of benches/alerts/run.sh: answers 200 to every POST and appends one JSON
line per request to the file named on the command line: the wall-clock arrival time (s) and
the notification's window end (ms), which run.sh joins with driftd's `Window closed.` log."""
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        arrived = time.time()
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
        doc = json.loads(body)
        with open(sys.argv[2], "a") as out:
            out.write(json.dumps({"arrived": arrived, "stream": doc["stream"], "window_end_ms": doc["window_end_ms"]}) + "\n")

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
print("ready", flush=True)
server.serve_forever()
