"""A TLS reverse proxy on loopback for the browser journeys: Debian's nginx in
front of gunicorn, as customers reach the app in production.

The certificate is made at test time by trustme (a throwaway CA and a
certificate for 127.0.0.1); Chromium trusts only that key, by its SPKI hash.
nginx runs with its own prefix, configuration, pid and logs in a temporary
folder, so it needs no root and touches nothing of the system's nginx."""

import base64
import getpass
import hashlib
import os
import shutil
import ssl
import subprocess
import time
import urllib.request
from pathlib import Path

import trustme
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def find_nginx() -> str | None:
    """nginx lives in /usr/sbin, which is not on every user's PATH."""
    return shutil.which("nginx", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin"]))


def nginx_version(nginx: str) -> str:
    """`nginx -v` answers on stderr: "nginx version: nginx/1.22.1"."""
    done = subprocess.run([nginx, "-v"], capture_output=True, text=True, timeout=10)
    return (done.stderr or done.stdout).strip().removeprefix("nginx version: ")


class Certificate:
    """A CA made for this run and its certificate for 127.0.0.1."""

    def __init__(self, folder: Path):
        self.ca = trustme.CA()
        issued = self.ca.issue_cert("127.0.0.1", "localhost")
        self.cert_path, self.key_path = folder / "server.pem", folder / "server.key"
        issued.cert_chain_pems[0].write_to_path(str(self.cert_path))
        for extra in issued.cert_chain_pems[1:]:
            extra.write_to_path(str(self.cert_path), append=True)
        issued.private_key_pem.write_to_path(str(self.key_path))
        leaf = x509.load_pem_x509_certificate(issued.cert_chain_pems[0].bytes())
        spki = leaf.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        # What Chromium's --ignore-certificate-errors-spki-list takes.
        self.spki_hash = base64.b64encode(hashlib.sha256(spki).digest()).decode()

    def client_context(self) -> ssl.SSLContext:
        """For Python clients of the proxy (a mail provider's one-click POST)."""
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context


CONFIG = """\
# Written by tests/browser/proxy.py for one test run.
{user}worker_processes 1;
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 128; }}
http {{
    access_log {folder}/access.log;
    client_body_temp_path {folder}/client_body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    client_max_body_size 50m;
    server {{
        listen 127.0.0.1:{port} ssl;
        server_name 127.0.0.1;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        location / {{
            # nginx's default Host (the upstream's address) is kept: the app
            # learns the public host, port and scheme only from these headers,
            # which it believes because TRUSTED_PROXY_HOPS=1.
            proxy_pass http://{upstream};
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $host;
            proxy_set_header X-Forwarded-Port $server_port;
        }}
    }}
}}
"""


class Nginx:
    """nginx listening with TLS on 127.0.0.1:`port`, passing to `upstream`."""

    def __init__(self, binary: str, folder: Path, port: int, upstream: str, cert: Certificate):
        self.binary, self.folder, self.port = binary, folder, port
        self.url = f"https://127.0.0.1:{port}"
        self.cert = cert
        # As root the workers would switch to `nobody`, who cannot write here.
        user = f"user {getpass.getuser()};\n" if os.geteuid() == 0 else ""
        self.config = folder / "nginx.conf"
        self.config.write_text(
            CONFIG.format(
                user=user,
                folder=folder,
                port=port,
                upstream=upstream,
                cert=cert.cert_path,
                key=cert.key_path,
            )
        )
        self.process = None

    def _command(self, *extra: str) -> list[str]:
        # -e: the error log from the first moment, before the configuration
        # is read (otherwise /var/log/nginx, unwritable without root).
        return [
            self.binary,
            "-p",
            str(self.folder),
            "-c",
            str(self.config),
            "-e",
            str(self.folder / "error.log"),
            *extra,
        ]

    def start(self) -> None:
        checked = subprocess.run(self._command("-t"), capture_output=True, text=True, timeout=30)
        if checked.returncode != 0:
            raise RuntimeError("nginx refused its configuration:\n" + checked.stderr)
        self.process = subprocess.Popen(
            self._command(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        context = self.cert.client_context()
        for _ in range(100):
            try:
                urllib.request.urlopen(self.url + "/healthz", timeout=1, context=context)
                return
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("nginx did not answer:\n" + self.log())

    def log(self) -> str:
        path = self.folder / "error.log"
        return path.read_text() if path.exists() else ""

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()  # SIGTERM: nginx's fast shutdown
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
