#!/usr/bin/env python3
"""Writes each fuzz target's seed corpus from the repository's fixtures (stdlib only).

Usage: seed.py OUT_DIR. Makes OUT_DIR/<Target>/ with one file per seed. A seed is the input format
of FuzzInput (Sources/FuzzSupport/FuzzInput.swift): an options byte, two bytes per cut, the
payload. Every fixture is written whole, one byte per read, and cut in two places, so the fuzzer
starts from inputs that already reach the parsers' deep states at awkward splits.
"""
import hashlib
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "Tests" / "MetronomeCoreTests" / "Fixtures"


def variants(payload, flags=0):
    """The payload whole, a byte per read, and cut at a third and at two thirds."""
    third = len(payload) // 3
    cuts = bytes([flags | 2]) + third.to_bytes(2, "little") + (2 * third).to_bytes(2, "little")
    return [bytes([flags]) + payload, bytes([flags | 8]) + payload, cuts + payload]


def head_and_body(response):
    """Splits a raw response at the first empty line (CRLF or bare LF)."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        at = response.find(sep)
        if at >= 0:
            return response[: at + len(sep)], response[at + len(sep):]
    return response, b""


def http_responses():
    return [p.read_bytes() for p in sorted((FIXTURES / "http").glob("*.txt"))]


def sse_bodies():
    return [p.read_bytes() for p in sorted((FIXTURES / "sse").iterdir()) if p.suffix in (".sse", ".json", ".txt")]


def response_parser():
    seeds = []
    for response in http_responses():
        seeds += variants(response)
        seeds.append(bytes([0x10]) + response)  # as the answer to a HEAD request
        seeds.append(bytes([0x20 | 8]) + response)  # a 200-byte head limit
    return seeds


def chunked_decoder():
    seeds = []
    for response in http_responses():
        head, body = head_and_body(response)
        if b"chunked" in head.lower():
            seeds += variants(body)
    seeds += variants(b"5\r\nhello\r\n0\r\n\r\n") + variants(b"a;ext=\"q\"\nabcdefghij\n0\nTrailer: x\n\n")
    return seeds


def sse_scanner():
    seeds = []
    for body in sse_bodies():
        seeds += variants(body)
    return seeds


def completion_json():
    seeds = []
    for path in sorted((FIXTURES / "sse").iterdir()):
        body = path.read_bytes()
        if path.suffix != ".sse":
            seeds += variants(body)
            continue
        for line in body.splitlines()[:40]:
            if line.startswith(b"data:") and b"{" in line:
                seeds += variants(line[5:].strip())
    return seeds


CHAT = b'{"model":"m","messages":[{"role":"user","content":"Hello there"}],"max_tokens":16,"stream":true,' \
       b'"stream_options":{"include_usage":true},"ignore_eos":true,"min_tokens":4}'
COMPLETION = b'{"model":"m","prompt":["one","two"],"max_tokens":200,"stream":false}'
CHAT_PARTS = b'{"messages":[{"role":"user","content":[{"type":"text","text":"a"}]}],"max_completion_tokens":3}'


def request(method, path, body=b"", extra=b""):
    head = method + b" " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra
    if body:
        head += b"Content-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n"
    return head + b"\r\n" + body


def chunked(body):
    return b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 40]), body[i:i + 40]) for i in range(0, len(body), 40)) + b"0\r\n\r\n"


def request_parser():
    requests = [
        request(b"POST", b"/v1/chat/completions", CHAT),
        request(b"POST", b"/v1/completions", COMPLETION, b"Connection: close\r\n"),
        request(b"GET", b"/v1/models"),
        request(b"GET", b"/health") + request(b"HEAD", b"/v1/models"),
        request(b"POST", b"/v1/chat/completions", CHAT, b"Expect: 100-continue\r\n"),
        b"POST /v1/chat/completions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(CHAT) + request(b"GET", b"/v1/models"),
        b"\r\nGET /v1/models HTTP/1.0\nConnection: keep-alive\n\n",
    ]
    seeds = []
    for r in requests:
        seeds += variants(r) + [bytes([0x10]) + r]
    return seeds


def openai_request():
    bodies = [(CHAT, 0x10), (CHAT_PARTS, 0x10), (COMPLETION, 0), (b'{"prompt":"x","max_tokens":4096}', 0),
              (b'{"prompt":[1,2,3],"min_tokens":2,"max_tokens":1}', 0), (b'{"messages":[]}', 0x10),
              (b'{"prompt":"x","max_tokens":9007199254740993,"min_tokens":-1}', 0)]
    return [bytes([flags]) + body for body, flags in bodies]


TARGETS = {
    "FuzzResponseParser": response_parser,
    "FuzzChunkedDecoder": chunked_decoder,
    "FuzzSSEScanner": sse_scanner,
    "FuzzCompletionJSON": completion_json,
    "FuzzRequestParser": request_parser,
    "FuzzOpenAIRequest": openai_request,
}


def main():
    out = pathlib.Path(sys.argv[1])
    for target, make in TARGETS.items():
        folder = out / target
        folder.mkdir(parents=True, exist_ok=True)
        seeds = make()
        for seed in seeds:
            (folder / hashlib.sha1(seed).hexdigest()).write_bytes(seed)
        print(f"{target}: {len(seeds)} seeds")


if __name__ == "__main__":
    main()
