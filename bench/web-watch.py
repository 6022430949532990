#!/usr/bin/env python3
"""A light watcher of the web view for bench/web-lag.sh: one process, 8 /events streams kept read,
and GET /stats.json every 50 ms, for SECONDS. Usage: web-watch.py PORT SECONDS"""
import selectors, socket, sys, time
port, seconds = int(sys.argv[1]), float(sys.argv[2])
sel = selectors.DefaultSelector()
def request(path):
    s = socket.create_connection(("127.0.0.1", port), timeout=2)
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    return s
for _ in range(8):
    s = request("/events"); s.setblocking(False); sel.register(s, selectors.EVENT_READ)
end = time.monotonic() + seconds
polls = events = 0
while time.monotonic() < end:
    try:
        s = request("/stats.json")
        while s.recv(65536): pass
        s.close(); polls += 1
    except OSError:
        break
    for key, _ in sel.select(timeout=0.05):
        try:
            data = key.fileobj.recv(65536)
            events += data.count(b"data: ")
            if not data: sel.unregister(key.fileobj)
        except OSError:
            sel.unregister(key.fileobj)
print(f"web-watch: {polls} /stats.json polls, {events} events", file=sys.stderr)
