#!/usr/bin/env python3
"""auth_server.py PORT_FILE LOG: a forward-authentication server for
t_57_auth's `auth request`. GET /check decides by the request's
Authorization: "Bearer good" 200 with X-User: alice and X-Groups: admins;
"Bearer forbidden" 403; "Bearer broken" 500; "Bearer slow" 200 after 2 s;
anything else 401 with WWW-Authenticate: Bearer realm="api". Each request's
method, path and X-Original-URI go to LOG. Ends by itself after 120 s."""
import http.server
import sys
import threading
import time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        with open(sys.argv[2], "a") as log:
            log.write("%s %s %s %s\n" % (self.command, self.path,
                                         self.headers.get("X-Original-Method", "-"),
                                         self.headers.get("X-Original-URI", "-")))
        auth = self.headers.get("Authorization", "")
        status, fields = 401, [("WWW-Authenticate", 'Bearer realm="api"')]
        if auth == "Bearer good" or auth == "Bearer slow":
            if auth == "Bearer slow":
                time.sleep(2)
            status, fields = 200, [("X-User", "alice"), ("X-Groups", "admins"), ("X-Other", "no")]
        elif auth == "Bearer forbidden":
            status, fields = 403, []
        elif auth == "Bearer broken":
            status, fields = 500, []
        body = b"auth says %d\n" % status
        self.send_response(status)
        for k, v in fields:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
threading.Timer(120, server.shutdown).start()
server.serve_forever()
