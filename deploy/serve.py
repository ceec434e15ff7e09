"""Serves site/ through nginx with deploy/nginx.conf, as a county's server would, but in the
foreground, on a loopback port, from a temporary folder (no root needed, nothing written under /etc
or /var). `make serve` runs it; the nginx tests (tests/test_nginx.py) and the benchmark
(bench/served.py) start it through `start()`.

    .venv/bin/python -m deploy.serve [--port 8000] [--site site]

Without nginx (Debian: `nginx` and `libnginx-mod-http-brotli-static`, which scripts/setup.sh
installs) it falls back to Python's http.server, which sends every file uncompressed and without the
cache and security headers (the pages' own <meta> policy still holds).

The only changes to deploy/nginx.conf: its `listen` lines become the loopback port and its `root`
the site folder; around it goes a minimal main configuration (brotli module, logs and temporary
files in the temporary folder, one worker).
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONF = Path(__file__).with_name("nginx.conf")
SITE = ROOT / "site"
BROTLI_MODULE = Path("/usr/lib/nginx/modules/ngx_http_brotli_static_module.so")
# access log for tests and benchmarks: what was sent for each request
LOG_FORMAT = "'$request_uri $status $body_bytes_sent \"$sent_http_content_encoding\"'"

MAIN = """\
load_module {module};
daemon off;
master_process on;
worker_processes 1;
{user}pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 256; }}
http {{
    log_format served {log_format};
    access_log {prefix}/access.log served;
    sendfile on;
    tcp_nopush on;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    include {prefix}/site.conf;
}}
"""


class Missing(RuntimeError):
    """nginx or its brotli module is not installed."""


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)


def site_conf(site: Path, port: int, conf: Path = CONF) -> str:
    """deploy/nginx.conf with `listen` on 127.0.0.1:port and `root` at site."""
    text = conf.read_text(encoding="utf-8")
    listens = re.findall(r"(?m)^\s*listen\s[^;]*;\n", text)
    roots = re.findall(r"(?m)^\s*root\s[^;]*;", text)
    if not listens or len(roots) != 1:
        raise ValueError(f"{conf}: expected listen lines and one root line")
    text = text.replace(listens[0], f"    listen 127.0.0.1:{port};\n", 1)
    for extra in listens[1:]:
        text = text.replace(extra, "", 1)
    return text.replace(roots[0], f"    root {site.resolve()};", 1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Nginx:
    """A running nginx (start() makes one); .url is the base URL ending in '/'."""

    def __init__(self, proc, prefix: Path, port: int):
        self.proc, self.prefix, self.port = proc, prefix, port
        self.url = f"http://127.0.0.1:{port}/"

    def access_log(self) -> list[dict]:
        """The requests served so far: uri, status, bytes (body bytes sent), encoding."""
        out = []
        path = self.prefix / "access.log"
        for line in path.read_text(encoding="utf-8").splitlines() if path.exists() else []:
            m = re.match(r'(\S+) (\d+) (\d+) "([^"]*)"$', line)
            if m:
                out.append({"uri": m[1], "status": int(m[2]), "bytes": int(m[3]), "encoding": m[4].strip("-")})
        return out

    def clear_log(self):
        (self.prefix / "access.log").write_text("", encoding="utf-8")   # nginx appends (O_APPEND)

    def error_log(self) -> str:
        path = self.prefix / "error.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)      # graceful: finish the open requests
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.prefix, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def start(site: Path = SITE, port: int | None = None, timeout: float = 10) -> Nginx:
    """Start nginx serving `site` on 127.0.0.1:port (a free one by default); raises Missing when
    nginx or the brotli module is not installed, RuntimeError when it does not come up."""
    binary = nginx_binary()
    if binary is None:
        raise Missing("nginx is not installed (Debian: apt-get install nginx libnginx-mod-http-brotli-static)")
    if not BROTLI_MODULE.is_file():
        raise Missing(f"{BROTLI_MODULE} is missing (Debian: apt-get install libnginx-mod-http-brotli-static)")
    port = port or free_port()
    prefix = Path(tempfile.mkdtemp(prefix="yanglao-nginx-"))
    (prefix / "tmp").mkdir()
    (prefix / "site.conf").write_text(site_conf(Path(site), port), encoding="utf-8")
    # as root the workers would run as `nobody`, who may not read the site: keep them as ourselves
    user = f"user {__import__('pwd').getpwuid(os.getuid()).pw_name};\n" if os.geteuid() == 0 else ""
    (prefix / "nginx.conf").write_text(MAIN.format(module=BROTLI_MODULE, prefix=prefix, user=user,
                                                   log_format=LOG_FORMAT), encoding="utf-8")
    cmd = [binary, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", str(prefix / "error.log")]
    check = subprocess.run(cmd + ["-t", "-q"], capture_output=True, text=True)
    if check.returncode != 0:
        shutil.rmtree(prefix, ignore_errors=True)
        raise RuntimeError(f"nginx -t failed: {check.stderr.strip()}")
    with open(prefix / "stderr.log", "wb") as stderr:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr)
    server = Nginx(proc, prefix, port)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = (prefix / "stderr.log").read_text(errors="replace") + server.error_log()
            server.stop()
            raise RuntimeError(f"nginx exited ({proc.returncode}): {err.strip()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return server
        except OSError:
            time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"nginx did not listen on 127.0.0.1:{port} within {timeout} s")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.serve", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--site", type=Path, default=SITE)
    args = parser.parse_args(argv)
    if not (args.site / "index.html").is_file():
        print(f"{args.site} is not built: run `make site` first", file=sys.stderr)
        return 2
    try:
        server = start(args.site, args.port)
    except Missing as err:
        print(f"{err}\nserving with Python's http.server instead: no compression, no cache or security headers",
              file=sys.stderr)
        os.execv(sys.executable, [sys.executable, "-m", "http.server", "--directory", str(args.site),
                                  "--bind", "127.0.0.1", str(args.port)])
    print(f"nginx with deploy/nginx.conf: 打开 {server.url} (Ctrl+C 停止)", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))     # stop nginx too (finally below)
    try:
        server.proc.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
