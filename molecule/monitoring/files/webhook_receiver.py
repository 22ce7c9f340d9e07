"""A minimal Alertmanager webhook receiver for the lab: every POSTed notification is appended, as one
JSON line, to a file. Usage: webhook_receiver.py ADDRESS PORT FILE"""

import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        try:
            notification = json.loads(body)
        except ValueError:
            self.send_response(400)
            self.end_headers()
            return
        with open(sys.argv[3], "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"path": self.path, "notification": notification}) + "\n")
        self.send_response(200)
        self.end_headers()


if __name__ == "__main__":
    HTTPServer((sys.argv[1], int(sys.argv[2])), Receiver).serve_forever()
