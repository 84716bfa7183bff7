#!/usr/bin/env python3
"""tcp_server.py MODE PORT_FILE: a small TCP server for the e2e tests, on an
ephemeral port of 127.0.0.1 written to PORT_FILE (through a rename); it ends
after 60 s without a connection.

  echo          sends back every byte it reads, until the client closes
  proxy-header  reads a PROXY header (v1 or v2) and an HTTP request head, and
                answers 200 with what the header said ("PROXY ..." for v1,
                "v2 ADDR:PORT" or "v2 cmd=.. fam=.." for v2, "none")
"""
import os
import socket
import sys
import threading

V2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def echo(c):
    while True:
        d = c.recv(65536)
        if not d:
            break
        c.sendall(d)


def proxy_header(c):
    data = b""
    while True:
        start = 16 + (data[14] << 8 | data[15]) if data.startswith(V2_SIG) and len(data) >= 16 else 0
        if b"\r\n\r\n" in data[start:]:
            break
        d = c.recv(4096)
        if not d:
            break
        data += d
    if data.startswith(b"PROXY "):
        hdr = data.split(b"\r\n", 1)[0].decode()
    elif data.startswith(V2_SIG):
        n = 16 + (data[14] << 8 | data[15])
        b = data[16:n]
        if data[13] == 0x11:
            hdr = "v2 %s:%d" % (socket.inet_ntoa(b[0:4]), b[8] << 8 | b[9])
        else:
            hdr = "v2 cmd=%x fam=%x" % (data[12], data[13])
    else:
        hdr = "none"
    body = (hdr + "\n").encode()
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
              + body)


def serve(handler, c):
    c.settimeout(10)
    try:
        handler(c)
    except OSError:
        pass
    c.close()


def main():
    handler = {"echo": echo, "proxy-header": proxy_header}[sys.argv[1]]
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    tmp = sys.argv[2] + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % s.getsockname()[1])
    os.rename(tmp, sys.argv[2])
    s.settimeout(60)
    while True:
        try:
            c, _ = s.accept()
        except socket.timeout:
            break
        threading.Thread(target=serve, args=(handler, c), daemon=True).start()


main()
