"""A TLS-terminating reverse proxy for tests, doing what nginx does in front of the app: it
speaks https to the browser and plain HTTP to run.py, adding X-Forwarded-For and
X-Forwarded-Proto to each request (and dropping any the client sent)."""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading
from pathlib import Path

HOST = "127.0.0.1"
FORWARDED = (b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host", b"forwarded")
HEAD_LIMIT = 64 * 1024


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1, made with the openssl command."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"]
        + ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
        + ["-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


class TlsProxy:
    def __init__(self, port: int, backend_port: int, cert: Path, key: Path) -> None:
        self.port = port
        self.backend_port = backend_port
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.listener = socket.create_server((HOST, port))
        self.running = True
        threading.Thread(target=self._accept, daemon=True).start()

    def stop(self) -> None:
        self.running = False
        self.listener.close()

    def _accept(self) -> None:
        while self.running:
            try:
                client, address = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client, address[0]), daemon=True).start()

    def _serve(self, raw_client: socket.socket, client_address: str) -> None:
        try:
            client = self.context.wrap_socket(raw_client, server_side=True)
            backend = socket.create_connection((HOST, self.backend_port))
        except (OSError, ssl.SSLError):
            raw_client.close()
            return
        # Two threads use these sockets; only this one closes them, after the pump has
        # stopped, so neither writes to a descriptor number the process has given out again.
        pump = threading.Thread(target=_pump, args=(backend, client), daemon=True)
        pump.start()
        try:
            self._forward_requests(client, client_address, backend)
        except OSError:
            pass
        finally:
            _stop_talking(backend)
            pump.join()
            backend.close()
            client.close()

    def _forward_requests(
        self, client: socket.socket, client_address: str, backend: socket.socket
    ) -> None:
        buffered = b""
        while True:
            while b"\r\n\r\n" not in buffered:
                chunk = client.recv(65536)
                if not chunk or len(buffered) > HEAD_LIMIT:
                    return
                buffered += chunk
            head, buffered = buffered.split(b"\r\n\r\n", 1)
            request_line, *lines = head.split(b"\r\n")
            kept = [line for line in lines if not line.lower().startswith(FORWARDED)]
            length = next(
                (
                    int(line.split(b":", 1)[1])
                    for line in kept
                    if line.lower().startswith(b"content-length:")
                ),
                0,
            )
            while len(buffered) < length:
                chunk = client.recv(65536)
                if not chunk:
                    return
                buffered += chunk
            body, buffered = buffered[:length], buffered[length:]
            added = [
                b"X-Forwarded-For: " + client_address.encode(),
                b"X-Forwarded-Proto: https",
            ]
            backend.sendall(b"\r\n".join([request_line, *kept, *added]) + b"\r\n\r\n" + body)


def _pump(source: socket.socket, target: socket.socket) -> None:
    """Copies the backend's answers to the client; when the backend is done, wakes the
    thread reading the client so that it closes both."""
    try:
        while chunk := source.recv(65536):
            target.sendall(chunk)
    except OSError:
        pass
    finally:
        _stop_talking(target)


def _stop_talking(sock: socket.socket) -> None:
    """Ends both directions without giving up the descriptor (the plain socket's shutdown,
    so a TLS socket's state is left to the thread that closes it)."""
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass
