# Section 4d: what https:// costs the generator beside http://, with and without session resumption.
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .procs import NGINX_CONF, BenchError, Server, _live, _somaxconn, free_port, pinned, quote, start_llmsim, stop, wait_listening
from .report import Column, Row, Table
from .sections import Context


@dataclass
class TLSParams:
    rates: tuple = (1000, 5000)
    run_sec: int = 10


TLS_MODES = {
    "default": TLSParams(),
    "quick": TLSParams(run_sec=5),
    "smoke": TLSParams(rates=(200,), run_sec=1),
}

# Section 4a's nginx (one worker, a 2-byte 200) with a TLS listener beside the plain one: tickets and
# a session cache, so a client that offers a session gets an abbreviated handshake.
_PLAIN_LISTEN = "        listen 127.0.0.1:{port} backlog={backlog};\n"
NGINX_TLS_CONF = NGINX_CONF.replace(_PLAIN_LISTEN, _PLAIN_LISTEN + """\
        listen 127.0.0.1:{tls_port} ssl backlog={backlog};
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_session_cache shared:bench:10m;
        ssl_session_tickets on;
        ssl_protocols TLSv1.2 TLSv1.3;
""")
assert NGINX_TLS_CONF != NGINX_CONF, "section 4a's nginx listen line changed: update _PLAIN_LISTEN"


def make_certificate(directory: Path) -> tuple[Path, Path] | None:
    """A self-signed P-256 certificate for 127.0.0.1 (the runs pass it as --cacert); None without openssl."""
    openssl = shutil.which("openssl")
    if not openssl:
        return None
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


def start_nginx_tls(nginx: str, *, cpu: int | None, work_dir: Path, cert: Path, key: Path) -> tuple[Server, str]:
    """nginx serving http and https; returns the server (its url is http) and the https url."""
    work_dir.mkdir(parents=True, exist_ok=True)
    port, tls_port = free_port(), free_port()
    conf = work_dir / "nginx.conf"
    conf.write_text(NGINX_TLS_CONF.format(dir=work_dir, port=port, tls_port=tls_port, backlog=_somaxconn(), cert=cert, key=key))
    argv = pinned([nginx, "-p", str(work_dir), "-e", str(work_dir / "error.log"), "-c", str(conf)], cpu)
    with open(work_dir / "stdout.log", "wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    _live[proc.pid] = proc
    if not wait_listening(port, proc) or not wait_listening(tls_port, proc):
        stop(proc)
        error_log = work_dir / "error.log"
        raise BenchError(f"nginx with TLS did not start ({quote(argv)}):\n"
                         f"{error_log.read_text(errors='replace')[-2000:] if error_log.exists() else ''}")
    return Server("nginx", f"http://127.0.0.1:{port}", quote(argv), proc), f"https://127.0.0.1:{tls_port}"


def _args(rate: int, seconds: float) -> list[str]:
    return ["--workload", "http", "--rate", str(rate), "--arrival", "constant", "--ramp", "0s",
            "--duration", f"{seconds:g}s", "--timeout", "10s", "--drain", "2s"]


def tls_table(ctx: Context, mode: str) -> Table:
    tp = TLS_MODES[mode]
    table = Table("speed_tls", f"4d. https:// beside http:// at fixed rates ({tp.run_sec} s each): generator CPU per "
                  "10,000 requests, send lag, handshakes",
                  [Column("rate", "offered rps", 0), Column("rps", "achieved rps", 0),
                   Column("cpu_per_10k", "CPU s / 10k req", 3), Column("lag_p99", "send lag p99 ms", 3),
                   Column("handshakes", "TLS handshakes", 0), Column("resumed", "resumed", 0),
                   Column("handshake_p50", "handshake p50 ms", 3)])
    made = make_certificate(ctx.raw / "tls")
    if made is None:
        table.skipped("https rows", "the openssl command is not installed (apt-get install openssl): no certificate")
        return table
    cert, key = made
    if ctx.nginx:
        server, tls_url = start_nginx_tls(ctx.nginx, cpu=ctx.server_cpu, work_dir=ctx.raw / "nginx4d", cert=cert, key=key)
        table.setup.append(server.command)
        servers = [(server, server.url, tls_url)]
    else:
        plain = start_llmsim(ctx.llmsim, ["--fast"], cpu=ctx.server_cpu, log_dir=ctx.raw, name="s4d_llmsim")
        secure = start_llmsim(ctx.llmsim, ["--fast", "--tls-cert", str(cert), "--tls-key", str(key)],
                              cpu=ctx.server_cpu, log_dir=ctx.raw, name="s4d_llmsim_tls")
        table.setup += [plain.command, secure.command]
        servers = [(plain, plain.url, None), (secure, None, secure.url)]
        tls_url = secure.url
        server = plain
    http_url = servers[0][1]
    try:
        # Connection: close makes the server close after each answer, so every request pays a connect
        # and a handshake: the case session resumption is for.
        variants = [("http://, keep-alive", http_url, []),
                    ("https://, keep-alive", tls_url, ["--cacert", str(cert)]),
                    ("https://, a new connection per request, resumed", tls_url,
                     ["--cacert", str(cert), "--header", "Connection: close"]),
                    ("https://, a new connection per request, --no-tls-resume", tls_url,
                     ["--cacert", str(cert), "--header", "Connection: close", "--no-tls-resume"])]
        for rate in tp.rates:
            for label, url, extra in variants:
                m = ctx.run_metronome(url + "/", _args(rate, tp.run_sec) + extra, f"s4d_{rate}_{len(table.rows)}", tp.run_sec)
                connections = m.extra.get("connections") or {}
                handshake = m.extra.get("tls_handshake_ms") or {}
                table.add(Row(f"{label} @ {rate:,}", {
                    "rate": rate, "rps": m.rps, "cpu_per_10k": m.cpu_s_per_10k(), "lag_p99": m.send_lag_ms["p99"],
                    "handshakes": connections.get("tls_handshakes") if url.startswith("https") else None,
                    "resumed": connections.get("tls_resumed") if url.startswith("https") else None,
                    "handshake_p50": handshake.get("p50") if handshake.get("count") else None},
                    [m.command], [m.raw], note="" if m.error_rate == 0 else f"{m.error_rate * 100:.2f} % did not succeed"))
    finally:
        for running, _, _ in servers:
            stop(running.proc)
    table.notes += [
        "Same server for both schemes (" + ("nginx, one worker, TLS 1.3 with tickets and a session cache" if ctx.nginx
                                           else "llmsim --fast, plain and with --tls-cert") +
        "), a self-signed P-256 certificate passed as --cacert (so the certificate check runs).",
        "CPU s / 10k req: user + system seconds of the whole generator process per 10,000 answers. "
        "'A new connection per request' sends Connection: close, so the server closes after each answer and each "
        "request waits for a connect and a handshake (in its latency, never in its service time).",
        "Handshake p50: from TCP connected to TLS done, client side."]
    return table
