#!/usr/bin/env python3
"""h2_raw.py: an HTTP/2 client that writes frames by hand (RFC 9113), for
the tests no well-behaved client can make: malformed requests, the known
attacks, flow-control corners and conformance cases.

    h2_raw.py PORT COMMAND [ARGS...]

Each command prints one line (or one per stream) for the test to compare:
"status 200 len 5", "rst PROTOCOL_ERROR", "goaway ENHANCE_YOUR_CALM",
"closed". Header blocks are encoded here, literally and without Huffman,
so any bytes can go in; responses are decoded with the hpack module
(Debian's python3-hpack). Cleartext (h2c, prior knowledge) only.
"""
import socket
import struct
import sys
import time

sys.path.append('/usr/lib/python3/dist-packages')  # python3-hpack, whatever python runs this
import hpack  # noqa: E402

DATA, HEADERS, PRIORITY, RST, SETTINGS, PUSH, PING, GOAWAY, WINDOW, CONT = range(10)
END_STREAM, ACK, END_HEADERS = 1, 1, 4
ERRORS = ['NO_ERROR', 'PROTOCOL_ERROR', 'INTERNAL_ERROR', 'FLOW_CONTROL_ERROR',
          'SETTINGS_TIMEOUT', 'STREAM_CLOSED', 'FRAME_SIZE_ERROR', 'REFUSED_STREAM', 'CANCEL',
          'COMPRESSION_ERROR', 'CONNECT_ERROR', 'ENHANCE_YOUR_CALM', 'INADEQUATE_SECURITY',
          'HTTP_1_1_REQUIRED']
PREFACE = b'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'


def err(code):
    return ERRORS[code] if code < len(ERRORS) else str(code)


def hp_int(value, prefix_bits, first):
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first | value])
    out = [first | limit]
    value -= limit
    while value >= 128:
        out.append((value & 127) | 128)
        value >>= 7
    out.append(value)
    return bytes(out)


def hp_str(s):
    return hp_int(len(s), 7, 0) + s


def literal(name, value, index=False):
    """A field as a literal with a new name: never indexed, or (index=True)
    added to the dynamic table."""
    name = name if isinstance(name, bytes) else name.encode()
    value = value if isinstance(value, bytes) else value.encode()
    return (b'\x40' if index else b'\x00') + hp_str(name) + hp_str(value)


def block(fields):
    return b''.join(literal(n, v) for n, v in fields)


class Conn:
    def __init__(self, port, settings=None, timeout=5.0, preface=True, before=b''):
        self.sock = socket.create_connection(('127.0.0.1', port), timeout=timeout)
        self.buf = b''
        self.dec = hpack.Decoder()
        self.dec.max_allowed_table_size = 65536
        self.goaway = None
        self.closed = False
        if preface:
            payload = b''.join(struct.pack('>HI', k, v) for k, v in (settings or {}).items())
            self.send(before + PREFACE + self.frame(SETTINGS, 0, 0, payload))

    @staticmethod
    def frame(ftype, flags, sid, payload=b''):
        return struct.pack('>I', len(payload))[1:] + bytes([ftype, flags]) + \
            struct.pack('>I', sid & 0x7fffffff) + payload

    def send(self, data):
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            self.closed = True
            return False

    def send_frame(self, ftype, flags, sid, payload=b''):
        return self.send(self.frame(ftype, flags, sid, payload))

    def request(self, sid, fields, end_stream=True):
        flags = END_HEADERS | (END_STREAM if end_stream else 0)
        return self.send_frame(HEADERS, flags, sid, block(fields))

    def read_frame(self, timeout=5.0):
        """The next frame, or None when the connection is closed or silent."""
        self.sock.settimeout(timeout)
        while True:
            if len(self.buf) >= 9:
                n = int.from_bytes(self.buf[:3], 'big')
                if len(self.buf) >= 9 + n:
                    ftype, flags = self.buf[3], self.buf[4]
                    sid = int.from_bytes(self.buf[5:9], 'big') & 0x7fffffff
                    payload = self.buf[9:9 + n]
                    self.buf = self.buf[9 + n:]
                    if ftype == GOAWAY:
                        self.goaway = int.from_bytes(payload[4:8], 'big')
                    return ftype, flags, sid, payload
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return None
            except OSError:
                data = b''
            if not data:
                self.closed = True
                return None
            self.buf += data

    def exchange(self, sids, timeout=5.0, window_for=None, limit=None):
        """Reads until every stream in sids has ended (or the connection has).
        Acknowledges SETTINGS, answers PINGs, and opens the window again for
        the streams in window_for (all, when None). Returns
        {sid: {"status", "headers", "body", "rst"}}."""
        res = {sid: {'status': None, 'headers': [], 'body': b'', 'rst': None, 'done': False}
               for sid in sids}
        deadline = time.time() + timeout
        while not all(r['done'] for r in res.values()):
            left = deadline - time.time()
            if left <= 0:
                break
            f = self.read_frame(left)
            if f is None:
                break
            ftype, flags, sid, payload = f
            if ftype == SETTINGS and not flags & ACK:
                self.send_frame(SETTINGS, ACK, 0)
            elif ftype == PING and not flags & ACK:
                self.send_frame(PING, ACK, 0, payload)
            elif ftype == GOAWAY:
                if int.from_bytes(payload[4:8], 'big') != 0:
                    break
            elif ftype in (HEADERS, CONT) and sid not in res:
                self.dec.decode(payload)  # the table is the connection's
            elif sid in res:
                r = res[sid]
                if ftype in (HEADERS, CONT):
                    fields = self.dec.decode(payload)
                    for n, v in fields:
                        if n == ':status' and (r['status'] is None or r['status'] < 200):
                            r['status'] = int(v)
                    r['headers'] += fields
                elif ftype == DATA:
                    r['body'] += payload
                    if payload and (window_for is None or sid in window_for):
                        inc = struct.pack('>I', len(payload))
                        self.send_frame(WINDOW, 0, 0, inc)
                        self.send_frame(WINDOW, 0, sid, inc)
                    elif payload:
                        self.send_frame(WINDOW, 0, 0, struct.pack('>I', len(payload)))
                    if limit and len(r['body']) >= limit:
                        r['done'] = True
                elif ftype == RST:
                    r['rst'] = err(int.from_bytes(payload[:4], 'big'))
                    r['done'] = True
                if flags & END_STREAM and ftype in (HEADERS, DATA):
                    r['done'] = True
        return res

    def outcome(self, timeout=5.0):
        """What the proxy did to the connection: the GOAWAY's code, or closed,
        or nothing within the timeout."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            f = self.read_frame(deadline - time.time())
            if f is None:
                break
            if f[0] == GOAWAY:
                return 'goaway ' + err(self.goaway)
            if f[0] == SETTINGS and not f[1] & ACK:
                self.send_frame(SETTINGS, ACK, 0)
        return 'closed' if self.closed else 'open'


def say(res):
    for sid, r in sorted(res.items()):
        if r['rst']:
            print('rst', r['rst'])
        elif r['status'] is None:
            print('nothing')
        else:
            print('status', r['status'], 'len', len(r['body']))


def base(path='/', method='GET', authority='a.test'):
    return [(':method', method), (':scheme', 'http'), (':authority', authority),
            (':path', path)]


# ---- commands ---------------------------------------------------------------------

def cmd_get(port, *paths):
    """GET PATH...: all on one connection at once; a line per stream."""
    c = Conn(port)
    sids = []
    for i, p in enumerate(paths):
        sid = 1 + 2 * i
        c.request(sid, base(p))
        sids.append(sid)
    say(c.exchange(sids, timeout=20))


def cmd_proxied(port, line, path):
    """PROXIED LINE PATH: a PROXY protocol v1 header (LINE, without its
    CRLF), then HTTP/2 with prior knowledge and a GET of PATH; prints the
    status and the body."""
    c = Conn(port, before=line.encode() + b'\r\n')
    c.request(1, base(path))
    r = c.exchange([1], timeout=10)[1]
    print('status', r['status'] if r['status'] is not None else r['rst'] or 'nothing')
    sys.stdout.write(r['body'].decode('latin-1'))


def cmd_upload(port, path, size):
    """UPLOAD PATH N: a POST of N pattern bytes without a length, in DATA
    frames as the window allows; prints the answer's body."""
    size = int(size)
    c = Conn(port)
    c.request(1, base(path, 'POST'), end_stream=False)
    body = bytes((i * 7 + (i >> 13)) & 0xff for i in range(size))
    window, conn_window, sent, stream_window = 65535, 65535, 0, 65535
    deadline = time.time() + 30
    while sent < size and time.time() < deadline:
        n = min(16384, size - sent, stream_window, conn_window)
        if n > 0:
            end = END_STREAM if sent + n == size else 0
            c.send_frame(DATA, end, 1, body[sent:sent + n])
            sent += n
            stream_window -= n
            conn_window -= n
            continue
        f = c.read_frame(5)
        if f is None:
            break
        if f[0] == WINDOW:
            inc = int.from_bytes(f[3][:4], 'big')
            if f[2] == 0:
                conn_window += inc
            else:
                stream_window += inc
        elif f[0] == SETTINGS and not f[1] & ACK:
            for i in range(0, len(f[3]), 6):
                k, v = struct.unpack('>HI', f[3][i:i + 6])
                if k == 4:
                    stream_window += v - window
                    window = v
            c.send_frame(SETTINGS, ACK, 0)
        elif f[0] == RST:
            print('rst', err(int.from_bytes(f[3][:4], 'big')))
            return
    r = c.exchange([1], timeout=20)[1]
    print(r['rst'] and 'rst ' + r['rst'] or r['body'].decode(errors='replace').strip())


def cmd_smuggle(port, case):
    """SMUGGLE CASE: a request HTTP/1.1 could read otherwise (RFC 9113 8.2);
    prints what became of it."""
    cases = {
        'transfer-encoding': base('/smuggled') + [('transfer-encoding', 'chunked')],
        'connection': base('/smuggled') + [('connection', 'keep-alive')],
        'keep-alive': base('/smuggled') + [('keep-alive', '5')],
        'upgrade': base('/smuggled') + [('upgrade', 'websocket')],
        'te-gzip': base('/smuggled') + [('te', 'gzip')],
        'uppercase': base('/smuggled') + [('X-Upper', 'x')],
        'crlf-value': base('/smuggled') + [('x-a', 'a\r\nx-b: b')],
        'lf-value': base('/smuggled') + [('x-a', 'a\nGET /evil HTTP/1.1')],
        'nul-value': base('/smuggled') + [('x-a', 'a\x00b')],
        'space-name': base('/smuggled') + [('x a', 'b')],
        'colon-name': base('/smuggled') + [('x:a', 'b')],
        'space-path': base('/smuggled HTTP/1.1\r\nx: y'),
        'path-space': base('/smuggled x'),
        'no-path': [(':method', 'GET'), (':scheme', 'http'), (':authority', 'a.test')],
        'no-method': [(':scheme', 'http'), (':authority', 'a.test'), (':path', '/smuggled')],
        'dup-path': base('/smuggled') + [(':path', '/other')],
        'pseudo-after': [(':method', 'GET'), ('x-a', 'b'), (':scheme', 'http'),
                         (':path', '/smuggled'), (':authority', 'a.test')],
        'unknown-pseudo': base('/smuggled') + [(':foo', 'bar')],
        'host-differs': base('/smuggled') + [('host', 'b.test')],
        'authority-space': base('/smuggled', authority='a.test x'),
        'method-space': base('/smuggled', method='GET /x'),
        'empty-path': base(''),
    }
    c = Conn(port)
    if case in ('length-short', 'length-long'):
        c.request(1, base('/echo', 'POST') + [('content-length', '10')], end_stream=False)
        c.send_frame(DATA, END_STREAM, 1, b'x' * (5 if case == 'length-short' else 20))
    elif case == 'length-head':
        c.request(1, base('/smuggled') + [('content-length', '5')])
    else:
        c.request(1, cases[case])
    r = c.exchange([1], timeout=5)[1]
    if r['rst']:
        print('rst', r['rst'])
    elif r['status'] is not None:
        print('status', r['status'])
    else:
        print(c.outcome(1))


def cmd_rapid_reset(port, n):
    """RAPID-RESET N: N streams opened and cancelled at once, in a loop
    (CVE-2023-44487); prints what the proxy did, and how far it got."""
    n = int(n)
    c = Conn(port)
    sent = 0
    for i in range(n):
        sid = 1 + 2 * i
        frames = c.frame(HEADERS, END_HEADERS | END_STREAM, sid, block(base('/slow/200'))) + \
            c.frame(RST, 0, sid, struct.pack('>I', 8))
        if not c.send(frames):
            break
        sent += 1
    print(c.outcome(10), 'after', sent)


def cmd_continuation(port, n):
    """CONTINUATION N: a head that never ends: HEADERS then N CONTINUATION
    frames, none with END_HEADERS (CVE-2024-28182)."""
    n = int(n)
    c = Conn(port)
    c.send_frame(HEADERS, END_STREAM, 1, block(base('/flood')))
    sent = 0
    for i in range(n):
        if not c.send_frame(CONT, 0, 1, literal('x-flood-%d' % i, 'y' * 32)):
            break
        sent += 1
    print(c.outcome(10), 'after', sent)


def cmd_flood(port, kind, n):
    """FLOOD settings|ping N: N frames that each want an answer, sent
    without reading one."""
    n = int(n)
    c = Conn(port)
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    f = c.frame(SETTINGS, 0, 0) if kind == 'settings' else c.frame(PING, 0, 0, b'12345678')
    sent = 0
    for _ in range(n // 100):
        if not c.send(f * 100):
            break
        sent += 100
    print(c.outcome(10), 'after', sent)


def cmd_hpack_bomb(port, refs):
    """HPACK-BOMB N: a 4 KB field put in the dynamic table, then a head of N
    one-byte references to it; then an ordinary request on the same
    connection."""
    c = Conn(port)
    big = 'b' * 4000
    c.send_frame(HEADERS, END_HEADERS | END_STREAM, 1,
                 block(base('/small')) + literal('x-big', big, index=True))
    first = c.exchange([1])[1]
    c.send_frame(HEADERS, END_HEADERS | END_STREAM, 3, block(base('/bomb')) + b'\xbe' * int(refs))
    bomb = c.exchange([3])[3]
    c.request(5, base('/after'))
    after = c.exchange([5])[5]
    for r in (first, bomb, after):
        print(('rst ' + r['rst']) if r['rst'] else 'status %s' % r['status'])


def cmd_big_head(port, n):
    """BIG-HEAD N: a request with N literal 1 KB fields (in CONTINUATION
    frames as needed); prints its outcome."""
    c = Conn(port)
    blk = block(base('/big-head') + [('x-big-%d' % i, 'v' * 1024) for i in range(int(n))])
    first, rest = blk[:16384], blk[16384:]
    frames = c.frame(HEADERS, END_STREAM | (0 if rest else END_HEADERS), 1, first)
    while rest:
        part, rest = rest[:16384], rest[16384:]
        frames += c.frame(CONT, 0 if rest else END_HEADERS, 1, part)
    c.send(frames)
    say(c.exchange([1]))


def cmd_settings(port):
    """SETTINGS: the server's SETTINGS, as "NAME=VALUE" in its order."""
    names = {1: 'header_table_size', 2: 'enable_push', 3: 'max_concurrent_streams',
             4: 'initial_window_size', 5: 'max_frame_size', 6: 'max_header_list_size'}
    c = Conn(port)
    while True:
        f = c.read_frame(5)
        if f is None:
            print('no settings')
            return
        if f[0] == SETTINGS and not f[1] & ACK:
            print(' '.join('%s=%d' % (names.get(k, str(k)), v) for k, v in
                           (struct.unpack('>HI', f[3][i:i + 6]) for i in range(0, len(f[3]), 6))))
            return


def cmd_idle(port, secs):
    """IDLE SECS: a connection that sends nothing after its SETTINGS; prints
    what the proxy did within SECS."""
    c = Conn(port)
    start = time.time()
    print(c.outcome(float(secs)), 'after %.0fs' % (time.time() - start))


def cmd_slow_head(port, secs):
    """SLOW-HEAD SECS: a HEADERS frame whose head never ends (no
    END_HEADERS, no CONTINUATION): prints whether the proxy closed the
    connection within SECS."""
    c = Conn(port)
    while True:  # the server's SETTINGS acknowledged first: nothing may come between
        f = c.read_frame(5)  # a head's frames afterwards
        if f is None:
            print('no settings')
            return
        if f[0] == SETTINGS and not f[1] & ACK:
            c.send_frame(SETTINGS, ACK, 0)
            break
    start = time.time()
    c.send_frame(HEADERS, END_STREAM, 1, block(base('/slow-head')))
    what = 'open'
    while time.time() < start + float(secs):
        f = c.read_frame(start + float(secs) - time.time())
        if f is None:
            what = 'closed' if c.closed else 'open'
            break
        if f[0] == GOAWAY:
            what = 'goaway ' + err(c.goaway)
            break
    print(what, 'after %.1fs' % (time.time() - start))


def cmd_slow_reader(port, big, small):
    """SLOW-READER BIG SMALL: stream 1 fetches BIG and never opens its
    window; stream 3 fetches SMALL on the same connection and must finish."""
    c = Conn(port)
    # The connection's window wide open, so only stream 1's own is shut.
    c.send_frame(WINDOW, 0, 0, struct.pack('>I', 1 << 30))
    c.request(1, base(big))
    time.sleep(0.3)
    c.request(3, base(small))
    res = c.exchange([3], timeout=20, window_for={3})
    r3 = res[3]
    print('small', r3['status'], len(r3['body']))


def cmd_zero_window(port, path, secs):
    """ZERO-WINDOW PATH SECS: a client whose windows stay at zero; prints
    what the proxy did within SECS."""
    c = Conn(port, settings={4: 0})
    c.request(1, base(path))
    deadline = time.time() + float(secs)
    what = 'open'
    while time.time() < deadline:
        f = c.read_frame(deadline - time.time())
        if f is None:
            what = 'closed' if c.closed else 'open'
            break
        if f[0] == SETTINGS and not f[1] & ACK:
            c.send_frame(SETTINGS, ACK, 0)
        elif f[0] == RST and f[2] == 1:
            what = 'rst ' + err(int.from_bytes(f[3][:4], 'big'))
            break
        elif f[0] == GOAWAY:
            what = 'goaway ' + err(c.goaway)
            break
    print(what)


def cmd_load(port, secs, conns, path='/load'):
    """LOAD SECS CONNS [PATH]: CONNS connections, 10 streams in flight on
    each, for SECS seconds, as a client should treat GOAWAY (RFC 9113 6.8):
    streams above its last stream id were not processed and go again on a
    new connection; one at or below it that ends without an answer is a
    failure. Prints "ok N failed F retried R goaways G"."""
    import threading
    stats = {'ok': 0, 'failed': 0, 'retried': 0, 'goaways': 0}
    lock = threading.Lock()
    stop_at = time.time() + float(secs)

    def one():
        retry = 0
        while time.time() < stop_at or retry:
            try:
                c = Conn(port)
            except OSError:
                time.sleep(0.05)
                continue
            open_ids, sid, last = set(), 1, None
            ok = failed = 0
            while True:
                while last is None and len(open_ids) < 10 and (time.time() < stop_at or retry):
                    c.request(sid, base(path))
                    open_ids.add(sid)
                    retry = max(0, retry - 1)
                    sid += 2
                if not open_ids:
                    break
                f = c.read_frame(10)
                if f is None:
                    break
                ftype, flags, fsid, payload = f
                if ftype == SETTINGS and not flags & ACK:
                    c.send_frame(SETTINGS, ACK, 0)
                elif ftype == PING and not flags & ACK:
                    c.send_frame(PING, ACK, 0, payload)
                elif ftype == GOAWAY:
                    last = int.from_bytes(payload[:4], 'big') & 0x7fffffff
                    with lock:
                        stats['goaways'] += 1
                    if last != 0x7fffffff:
                        gone = {i for i in open_ids if i > last}
                        retry += len(gone)
                        with lock:
                            stats['retried'] += len(gone)
                        open_ids -= gone
                    else:
                        last = None  # a notice: go on
                elif ftype in (HEADERS, CONT):
                    c.dec.decode(payload)
                    if flags & END_STREAM:
                        open_ids.discard(fsid)
                        ok += 1
                elif ftype == DATA:
                    if payload:
                        inc = struct.pack('>I', len(payload))
                        c.send_frame(WINDOW, 0, 0, inc)
                        c.send_frame(WINDOW, 0, fsid, inc)
                    if flags & END_STREAM:
                        open_ids.discard(fsid)
                        ok += 1
                elif ftype == RST:
                    code = int.from_bytes(payload[:4], 'big')
                    open_ids.discard(fsid)
                    if code == 7:  # REFUSED_STREAM: not processed, may go again
                        retry += 1
                    else:
                        failed += 1
            failed += len(open_ids)
            c.sock.close()
            with lock:
                stats['ok'] += ok
                stats['failed'] += failed

    threads = [threading.Thread(target=one) for _ in range(int(conns))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print('ok %(ok)d failed %(failed)d retried %(retried)d goaways %(goaways)d' % stats)


def grpc_frame(msg):
    return b'\x00' + struct.pack('>I', len(msg)) + msg


def grpc_request(path):
    return base(path, 'POST') + [('content-type', 'application/grpc'), ('te', 'trailers')]


def grpc_read(c, sid, timeout=10.0, until_msgs=None):
    """Reads stream sid: returns (messages, status headers, trailers, rst)
    once it ends, or once until_msgs messages have come."""
    msgs, buf, heads, rst = [], b'', [], None
    deadline = time.time() + timeout
    while time.time() < deadline:
        f = c.read_frame(deadline - time.time())
        if f is None:
            break
        ftype, flags, fsid, payload = f
        if ftype == SETTINGS and not flags & ACK:
            c.send_frame(SETTINGS, ACK, 0)
            continue
        if ftype == PING and not flags & ACK:
            c.send_frame(PING, ACK, 0, payload)
            continue
        if ftype in (HEADERS, CONT):
            fields = c.dec.decode(payload)
            if fsid == sid:
                heads.append(dict(fields))
        elif ftype == DATA and fsid == sid:
            buf += payload
            if payload:
                inc = struct.pack('>I', len(payload))
                c.send_frame(WINDOW, 0, 0, inc)
                c.send_frame(WINDOW, 0, sid, inc)
            while len(buf) >= 5 and len(buf) >= 5 + int.from_bytes(buf[1:5], 'big'):
                n = int.from_bytes(buf[1:5], 'big')
                msgs.append(buf[5:5 + n].decode())
                buf = buf[5 + n:]
        elif ftype == RST and fsid == sid:
            rst = err(int.from_bytes(payload[:4], 'big'))
            break
        if fsid == sid and flags & END_STREAM and ftype in (HEADERS, DATA):
            break
        if until_msgs is not None and len(msgs) >= until_msgs:
            break
    return msgs, heads, rst


def grpc_status(heads):
    for h in heads[::-1]:
        if 'grpc-status' in h:
            return 'grpc-status %s %s' % (h['grpc-status'], h.get('grpc-message', ''))
    return 'no grpc-status'


def cmd_grpc(port, path, *messages):
    """GRPC PATH MSG...: a gRPC call: the messages in DATA frames, then
    END_STREAM; prints the messages that came back and the status from the
    trailers ("trailers-only" when the status came in the only HEADERS)."""
    c = Conn(port)
    c.request(1, grpc_request(path), end_stream=False)
    for i, m in enumerate(messages):
        c.send_frame(DATA, END_STREAM if i == len(messages) - 1 else 0, 1, grpc_frame(m.encode()))
    if not messages:
        c.send_frame(DATA, END_STREAM, 1, b'')
    msgs, heads, rst = grpc_read(c, 1)
    if rst:
        print('rst', rst)
        return
    for m in msgs:
        print('msg', m)
    print(grpc_status(heads) + (' trailers-only' if len(heads) == 1 else ''))


def cmd_grpc_deadline(port, path, timeout, within):
    """GRPC-DEADLINE PATH TIMEOUT SECS: a call with grpc-timeout: TIMEOUT;
    prints its :status and whether it ended within SECS."""
    c = Conn(port)
    start = time.time()
    c.request(1, grpc_request(path) + [('grpc-timeout', timeout)], end_stream=False)
    c.send_frame(DATA, END_STREAM, 1, grpc_frame(b'x'))
    msgs, heads, rst = grpc_read(c, 1, timeout=30)
    took = time.time() - start
    status = next((h[':status'] for h in heads if ':status' in h), None)
    print('status', status or rst, 'in time' if took <= float(within) else 'late (%.1fs)' % took)


def cmd_grpc_bidi(port, path, *messages):
    """GRPC-BIDI PATH MSG...: each message sent only after the one before
    came back: a relay that held the request body would stall."""
    c = Conn(port)
    c.request(1, grpc_request(path), end_stream=False)
    got = []
    for m in messages:
        c.send_frame(DATA, 0, 1, grpc_frame(m.encode()))
        msgs, heads, rst = grpc_read(c, 1, timeout=5, until_msgs=1)
        if rst or not msgs:
            print('stalled after', ' '.join(got) or 'nothing', rst or '')
            return
        got += msgs
        print('echo', msgs[0])
    c.send_frame(DATA, END_STREAM, 1, b'')
    msgs, heads, rst = grpc_read(c, 1)
    print(grpc_status(heads))


def stream_or_connection(c, r):
    """What became of a stream: its reset, else the connection's GOAWAY."""
    if r['rst']:
        return 'rst ' + r['rst']
    if c.goaway is not None:
        return 'goaway ' + err(c.goaway)
    return c.outcome(3)


def cmd_conformance(port, case):
    """CONFORMANCE CASE: one of RFC 9113's connection rules."""
    c = Conn(port)
    if case == 'ping':
        c.send_frame(PING, 0, 0, b'rpx-ping')
        deadline = time.time() + 5
        while time.time() < deadline:
            f = c.read_frame(5)
            if f is None:
                break
            if f[0] == PING and f[1] & ACK:
                print('pong', f[3].decode())
                return
        print('no pong')
        return
    if case == 'unknown-frame':
        c.send_frame(0xfa, 0, 0, b'whatever')
        c.request(1, base('/after-unknown'))
        say(c.exchange([1]))
        return
    if case == 'data-stream0':
        c.send_frame(DATA, 0, 0, b'x')
    elif case == 'window-zero':
        c.send_frame(WINDOW, 0, 0, struct.pack('>I', 0))
    elif case == 'even-stream':
        c.request(2, base('/even'))
    elif case == 'frame-too-big':
        c.request(1, base('/echo', 'POST'), end_stream=False)
        c.send_frame(DATA, 0, 1, b'x' * 20000)
    elif case == 'stream-id-back':
        c.request(5, base('/five'))
        c.exchange([5])
        c.request(3, base('/three'))
    elif case == 'bad-preface':
        c2 = Conn(port, preface=False)
        c2.send(b'PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n' + c2.frame(SETTINGS, 0, 0))
        print(c2.outcome(5))
        return
    elif case == 'settings-bad-window':
        c.send_frame(SETTINGS, 0, 0, struct.pack('>HI', 4, 1 << 31))
    elif case == 'settings-bad-frame-size':
        c.send_frame(SETTINGS, 0, 0, struct.pack('>HI', 5, 100))
    elif case == 'headers-stream0':
        c.send_frame(HEADERS, END_HEADERS | END_STREAM, 0, block(base('/zero')))
    elif case == 'max-stream-id':
        c.request(0x7fffffff, base('/last'))
        r = c.exchange([0x7fffffff])[0x7fffffff]
        print('status', r['status'])
        c.request(0x7fffffff + 2, base('/beyond'))  # wraps to stream 1: going back
    elif case == 'window-overflow':
        c.send_frame(WINDOW, 0, 0, struct.pack('>I', 0x7fffffff))
    elif case == 'second-headers-no-end':
        c.request(1, base('/echo', 'POST'), end_stream=False)
        c.send_frame(DATA, 0, 1, b'x')
        c.send_frame(HEADERS, END_HEADERS, 1, block([('x-trailer', 'y')]))
        print(stream_or_connection(c, c.exchange([1], timeout=3)[1]))
        return
    elif case == 'data-idle':
        c.send_frame(DATA, END_STREAM, 1, b'x')
    elif case == 'data-half-closed':
        c.request(1, base('/slow/500'))
        c.send_frame(DATA, 0, 1, b'x')
        print(stream_or_connection(c, c.exchange([1], timeout=3)[1]))
        return
    elif case == 'rst-idle':
        c.send_frame(RST, 0, 1, struct.pack('>I', 8))
    elif case == 'continuation-other-stream':
        c.send_frame(HEADERS, END_STREAM, 1, block(base('/a')))
        c.send_frame(CONT, END_HEADERS, 3, block([('x-a', 'b')]))
    elif case == 'continuation-after-end':
        c.send_frame(HEADERS, END_STREAM | END_HEADERS, 1, block(base('/a')))
        c.send_frame(CONT, END_HEADERS, 1, block([('x-a', 'b')]))
    elif case == 'push-promise':
        c.send_frame(PUSH, END_HEADERS, 1, struct.pack('>I', 2) + block(base('/p')))
    elif case == 'settings-ack-payload':
        c.send_frame(SETTINGS, ACK, 0, struct.pack('>HI', 4, 100))
    elif case == 'settings-stream':
        c.send_frame(SETTINGS, 0, 1, b'')
    elif case == 'settings-length':
        c.send_frame(SETTINGS, 0, 0, b'\x00\x04\x00')
    elif case == 'settings-push-2':
        c.send_frame(SETTINGS, 0, 0, struct.pack('>HI', 2, 2))
    elif case == 'ping-stream':
        c.send_frame(PING, 0, 1, b'12345678')
    elif case == 'ping-length':
        c.send_frame(PING, 0, 0, b'1234567')
    elif case == 'goaway-stream':
        c.send_frame(GOAWAY, 0, 1, struct.pack('>II', 0, 0))
    elif case == 'rst-length':
        c.request(1, base('/slow/500'))
        c.send_frame(RST, 0, 1, b'\x00\x00\x08')
    elif case == 'window-length':
        c.send_frame(WINDOW, 0, 0, b'\x00\x00\x01')
    elif case == 'data-padding':
        c.request(1, base('/echo', 'POST'), end_stream=False)
        c.send_frame(DATA, 0x08 | END_STREAM, 1, bytes([10]) + b'abc')
    elif case == 'headers-self-dependency':
        c.send_frame(HEADERS, END_STREAM | END_HEADERS | 0x20, 1,
                     struct.pack('>IB', 1, 16) + block(base('/self')))
        print(stream_or_connection(c, c.exchange([1], timeout=3)[1]))
        return
    elif case == 'hpack-bad-index':
        c.send_frame(HEADERS, END_STREAM | END_HEADERS, 1, b'\x82\x86\x84' + b'\xff\x40')
    elif case == 'headers-after-rst':
        c.request(1, base('/slow/2000'), end_stream=False)
        c.send_frame(RST, 0, 1, struct.pack('>I', 8))
        c.send_frame(HEADERS, END_STREAM | END_HEADERS, 1, block([('x-t', 'y')]))
        print(c.outcome(2))
        return
    elif case == 'priority-self':
        c.send_frame(PRIORITY, 0, 1, struct.pack('>IB', 1, 16))
        print(stream_or_connection(c, c.exchange([1], timeout=2)[1]))
        return
    print(c.outcome(5))


def main():
    port, cmd, args = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
    fn = globals().get('cmd_' + cmd.replace('-', '_'))
    if not fn:
        sys.exit('h2_raw.py: unknown command ' + cmd)
    fn(port, *args)


if __name__ == '__main__':
    main()
