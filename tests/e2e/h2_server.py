#!/usr/bin/env python3
"""h2_server.py: an HTTP/2 server (prior knowledge, cleartext) for the
tests of `server NAME ADDR h2`: plain answers, and a gRPC-like service
written as raw frames (gRPC messages are a 5-byte prefix and bytes; its
status travels in trailing HEADERS).

    h2_server.py PORT_FILE LOG NAME [CERT KEY [ALPN]]

With CERT and KEY it speaks TLS and agrees to ALPN "h2" (or to ALPN, e.g.
"http/1.1", to test a server that will not speak HTTP/2).

Paths:
  /grpc.Echo/Unary         the request's messages back, then grpc-status 0
  /grpc.Echo/Bidi          each message back as soon as it arrives
  /grpc.Echo/ServerStream  three messages 100 ms apart, then grpc-status 0
  /grpc.Echo/Fail          trailers only: grpc-status 13, grpc-message boom
  /grpc.Echo/Hang          never answers
  /len/...                 "NAME METHOD PATH\\n" with a content-length
  /trailers                a body and trailing HEADERS x-checksum: abc
  /bytes/N                 N bytes of origin's pattern, no length, within the
                           client's flow-control windows
  anything else            "NAME METHOD PATH body=N te=TE\\n", no length
The log gets a line per connection ("conn K") and per stream
("stream METHOD PATH").
"""
import socket
import struct
import sys
import threading
import time

sys.path.append('/usr/lib/python3/dist-packages')  # python3-hpack
import hpack  # noqa: E402

DATA, HEADERS, RST, SETTINGS, PING, GOAWAY, WINDOW, CONT = 0, 1, 3, 4, 6, 7, 8, 9
END_STREAM, ACK, END_HEADERS = 1, 1, 4
PREFACE = b'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'
log_lock = threading.Lock()
conns = [0]


def frame(ftype, flags, sid, payload=b''):
    return struct.pack('>I', len(payload))[1:] + bytes([ftype, flags]) + \
        struct.pack('>I', sid) + payload


def grpc_messages(buf):
    out = []
    while len(buf) >= 5:
        n = int.from_bytes(buf[1:5], 'big')
        if len(buf) < 5 + n:
            break
        out.append(buf[5:5 + n])
        buf = buf[5 + n:]
    return out, buf


def grpc_frame(msg):
    return b'\x00' + struct.pack('>I', len(msg)) + msg


class Conn:
    def __init__(self, sock, name, logf):
        self.sock, self.name, self.logf = sock, name, logf
        self.enc, self.dec = hpack.Encoder(), hpack.Decoder()
        self.lock = threading.Lock()
        self.streams = {}
        # Flow control of what this server sends: the client's windows.
        self.cv = threading.Condition()
        self.conn_window, self.initial_window, self.windows = 65535, 65535, {}

    def send(self, *frames):
        with self.lock:
            try:
                self.sock.sendall(b''.join(frames))
            except OSError:
                pass

    def headers(self, sid, fields, end=False):
        with self.lock:
            block = self.enc.encode(fields)
            try:
                self.sock.sendall(frame(HEADERS, END_HEADERS | (END_STREAM if end else 0), sid, block))
            except OSError:
                pass

    def log(self, line):
        with log_lock:
            with open(self.logf, 'a') as f:
                f.write(line + '\n')

    def run(self):
        buf = b''
        while len(buf) < len(PREFACE):
            d = self.sock.recv(65536)
            if not d:
                return
            buf += d
        if not buf.startswith(PREFACE):
            return
        buf = buf[len(PREFACE):]
        self.send(frame(SETTINGS, 0, 0, struct.pack('>HI', 3, 100)))
        pending = {}
        while True:
            while len(buf) >= 9:
                n = int.from_bytes(buf[:3], 'big')
                if len(buf) < 9 + n:
                    break
                ftype, flags = buf[3], buf[4]
                sid = int.from_bytes(buf[5:9], 'big') & 0x7fffffff
                payload = buf[9:9 + n]
                buf = buf[9 + n:]
                self.on_frame(ftype, flags, sid, payload, pending)
            try:
                d = self.sock.recv(65536)
            except OSError:
                d = b''
            if not d:
                return
            buf += d

    def on_frame(self, ftype, flags, sid, payload, pending):
        if ftype == SETTINGS and not flags & ACK:
            with self.cv:
                for i in range(0, len(payload), 6):
                    k, v = struct.unpack('>HI', payload[i:i + 6])
                    if k == 4:
                        for w in self.windows:
                            self.windows[w] += v - self.initial_window
                        self.initial_window = v
                self.cv.notify_all()
            self.send(frame(SETTINGS, ACK, 0))
        elif ftype == WINDOW:
            inc = int.from_bytes(payload[:4], 'big') & 0x7fffffff
            with self.cv:
                if sid == 0:
                    self.conn_window += inc
                elif sid in self.windows:
                    self.windows[sid] += inc
                self.cv.notify_all()
        elif ftype == PING and not flags & ACK:
            self.send(frame(PING, ACK, 0, payload))
        elif ftype in (HEADERS, CONT):
            if ftype == HEADERS and flags & 0x20:  # PRIORITY
                payload = payload[5:]
            pending[sid] = pending.get(sid, b'') + payload
            if flags & END_HEADERS:
                fields = dict(self.dec.decode(pending.pop(sid)))
                if sid in self.streams:  # trailing HEADERS
                    self.streams[sid]['trailers'] = fields
                else:
                    self.streams[sid] = {'h': fields, 'body': b'', 'answered': False}
                    self.log('stream %s %s' % (fields.get(':method'), fields.get(':path')))
                    self.on_open(sid)
                if flags & END_STREAM:
                    self.on_end(sid)
            elif ftype == HEADERS and flags & END_STREAM:
                self.streams.setdefault(sid, {})['end_pending'] = True
        elif ftype == DATA:
            s = self.streams.get(sid)
            if payload:
                inc = struct.pack('>I', len(payload))
                self.send(frame(WINDOW, 0, 0, inc), frame(WINDOW, 0, sid, inc))
            if s is not None:
                s['body'] += payload
                self.on_data(sid)
                if flags & END_STREAM:
                    self.on_end(sid)
        elif ftype == RST:
            self.log('rst %d' % sid)
            self.streams.pop(sid, None)

    def on_open(self, sid):
        s = self.streams[sid]
        if s['h'].get(':path') == '/grpc.Echo/Bidi':
            self.headers(sid, [(':status', '200'), ('content-type', 'application/grpc')])
            s['answered'] = True

    def on_data(self, sid):
        s = self.streams[sid]
        if s['h'].get(':path') == '/grpc.Echo/Bidi':
            msgs, s['body'] = grpc_messages(s['body'])
            for m in msgs:
                self.send(frame(DATA, 0, sid, grpc_frame(m)))

    def on_end(self, sid):
        s = self.streams.get(sid)
        if s is None:
            return
        h, path = s['h'], s['h'].get(':path', '')
        grpc_ok = [('grpc-status', '0'), ('grpc-message', 'OK')]
        if path == '/grpc.Echo/Unary':
            msgs, _ = grpc_messages(s['body'])
            self.headers(sid, [(':status', '200'), ('content-type', 'application/grpc')])
            self.send(*[frame(DATA, 0, sid, grpc_frame(m)) for m in msgs])
            self.headers(sid, grpc_ok, end=True)
        elif path == '/grpc.Echo/Bidi':
            self.headers(sid, grpc_ok, end=True)
        elif path == '/grpc.Echo/ServerStream':
            def later():
                self.headers(sid, [(':status', '200'), ('content-type', 'application/grpc')])
                for i in range(3):
                    time.sleep(0.1)
                    self.send(frame(DATA, 0, sid, grpc_frame(b'part %d' % i)))
                self.headers(sid, grpc_ok, end=True)
            threading.Thread(target=later, daemon=True).start()
        elif path == '/grpc.Echo/Fail':
            self.headers(sid, [(':status', '200'), ('content-type', 'application/grpc'),
                               ('grpc-status', '13'), ('grpc-message', 'boom')], end=True)
        elif path == '/grpc.Echo/Hang':
            pass
        elif path.startswith('/len/'):
            body = ('%s %s %s\n' % (self.name, h.get(':method'), path)).encode()
            self.headers(sid, [(':status', '200'), ('content-length', str(len(body)))])
            self.send(frame(DATA, END_STREAM, sid, body))
        elif path.startswith('/bytes/'):
            n = int(path[7:])
            with self.cv:
                self.windows[sid] = self.initial_window
            self.headers(sid, [(':status', '200'), ('content-type', 'application/octet-stream')])

            def send_body():
                i = 0
                while i < n:
                    with self.cv:
                        ok = self.cv.wait_for(lambda: min(self.conn_window, self.windows[sid]) > 0,
                                              timeout=30)
                        if not ok:
                            return
                        k = min(16384, n - i, self.conn_window, self.windows[sid])
                        self.conn_window -= k
                        self.windows[sid] -= k
                    chunk = bytes(((j * 7 + (j >> 13)) & 0xff) for j in range(i, i + k))
                    i += k
                    self.send(frame(DATA, END_STREAM if i == n else 0, sid, chunk))
            threading.Thread(target=send_body, daemon=True).start()
        elif path == '/trailers':
            self.headers(sid, [(':status', '200')])
            self.send(frame(DATA, 0, sid, b'hello'))
            self.headers(sid, [('x-checksum', 'abc')], end=True)
        else:
            body = ('%s %s %s body=%d te=%s\n' % (self.name, h.get(':method'), path,
                                                  len(s['body']), h.get('te', '-'))).encode()
            self.headers(sid, [(':status', '200'), ('content-type', 'text/plain'),
                               ('x-h2-origin', self.name)])
            self.send(frame(DATA, END_STREAM, sid, body))
        self.streams.pop(sid, None)


def main():
    port_file, logf, name = sys.argv[1], sys.argv[2], sys.argv[3]
    ctx = None
    if len(sys.argv) > 5:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[4], sys.argv[5])
        ctx.set_alpn_protocols([sys.argv[6] if len(sys.argv) > 6 else 'h2'])
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(('127.0.0.1', 0))
    srv.listen(64)
    with open(port_file + '.tmp', 'w') as f:
        f.write('%d\n' % srv.getsockname()[1])
    import os
    os.rename(port_file + '.tmp', port_file)
    deadline = time.time() + 600
    srv.settimeout(1)
    while time.time() < deadline:
        try:
            sock, _ = srv.accept()
        except socket.timeout:
            continue
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if ctx:
            try:
                sock.settimeout(5)
                sock = ctx.wrap_socket(sock, server_side=True)
                sock.settimeout(None)
            except (OSError, ValueError):
                sock.close()
                continue
        conns[0] += 1
        c = Conn(sock, name, logf)
        c.log('conn %d' % conns[0])
        threading.Thread(target=c.run, daemon=True).start()


if __name__ == '__main__':
    main()
