"""A TLS server that is not Metronome's: Python's ssl module over http.server, for the https tests.

Usage: tls_server.py CERT KEY MODE [SECONDS]. Prints the port it listens on (127.0.0.1, a free port),
then serves until SECONDS (default 60) have passed. MODE:
  openai     GET /v1/models and POST /v1/chat/completions streaming max_tokens SSE chunks (the 200/200
             workload's shape), keep-alive, Content-Length-free chunked framing as vLLM's.
  bytewise   the same stream, but every byte of the response body in its own TLS record.
  eof        200 with a close-delimited body (no Content-Length), then TCP close without close_notify.
  cut        Content-Length 100, 50 bytes, then TCP close without close_notify.
Python's SSLSocket.close() sends no close_notify (only unwrap() would): every close here is abrupt.
"""
import http.server
import json
import socket
import ssl
import sys
import threading

cert, key, mode = sys.argv[1], sys.argv[2], sys.argv[3]
lifetime = float(sys.argv[4]) if len(sys.argv) > 4 else 60.0


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self):
        if mode in ("eof", "cut"):
            return self.broken()
        body = json.dumps({"object": "list", "data": [{"id": "py-model", "object": "model"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        request = json.loads(self.rfile.read(length) or b"{}")
        if mode in ("eof", "cut"):
            return self.broken()
        tokens = int(request.get("max_tokens") or 16)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.flush_headers_now()
        for index in range(tokens):
            event = {"id": "c", "object": "chat.completion.chunk", "model": "py-model",
                     "choices": [{"index": 0, "delta": {"content": " tok"}, "finish_reason": None}]}
            self.chunk(b"data: " + json.dumps(event).encode() + b"\n\n")
        last = {"id": "c", "object": "chat.completion.chunk", "model": "py-model",
                "choices": [{"index": 0, "delta": {}, "finish_reason": "length"}],
                "usage": {"prompt_tokens": 200, "completion_tokens": tokens, "total_tokens": 200 + tokens}}
        self.chunk(b"data: " + json.dumps(last).encode() + b"\n\n")
        self.chunk(b"data: [DONE]\n\n")
        self.send_bytes(b"0\r\n\r\n")

    def flush_headers_now(self):
        self.wfile.flush()

    def chunk(self, data):
        self.send_bytes(b"%x\r\n" % len(data) + data + b"\r\n")

    def send_bytes(self, data):
        if mode == "bytewise":
            for index in range(len(data)):
                self.connection.sendall(data[index:index + 1])
        else:
            self.connection.sendall(data)

    def broken(self):
        if mode == "eof":
            self.connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nclose-delimited body")
        else:
            self.connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 50)
        self.close_connection = True


# socketserver's listen backlog is 5: a burst of connects would wait for SYN retries (1 s and more).
http.server.ThreadingHTTPServer.request_queue_size = 128
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
threading.Timer(lifetime, server.shutdown).start()
server.serve_forever()
