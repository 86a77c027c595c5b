"""The app as the README serves it (run.py's waitress, gunicorn on Linux): behind a proxy each
union keeps its own rate limit, and slow clients do not shut the others out."""

from __future__ import annotations

import http.client
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.factories import api_body
from tests.servers import HOST, Server

SLOW_CLIENTS = 150  # past waitress's default of 100 connections


def post_booking(port: int, forwarded_for: str) -> int:
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        body = json.dumps({"offering": "expo-interieure"})  # invalid, yet counted
        connection.request(
            "POST",
            "/api/v1/bookings",
            body=body,
            headers={"Content-Type": "application/json", "X-Forwarded-For": forwarded_for},
        )
        return connection.getresponse().status
    finally:
        connection.close()


@pytest.fixture(params=["waitress", "gunicorn"])
def server_behind_a_proxy(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    server = Server(
        tmp_path / "server.log",
        gunicorn=request.param == "gunicorn",
        AMBULANTE_DATA_DIR=str(tmp_path / "data"),
        AMBULANTE_TRUSTED_PROXIES="1",
        AMBULANTE_BOOKING_RATE_LIMIT="1/hour",
        # The default memory store counts per process; one worker keeps the count exact
        # here (production shares it through AMBULANTE_RATELIMIT_STORAGE_URI).
        workers=1,
    )
    yield server
    server.stop()


def test_behind_a_proxy_each_union_keeps_its_own_rate_limit(server_behind_a_proxy):
    port = server_behind_a_proxy.port
    assert post_booking(port, "203.0.113.1") == 422
    assert post_booking(port, "203.0.113.1") == 429
    assert post_booking(port, "203.0.113.2") == 422  # another union behind the same proxy


def test_slow_clients_do_not_shut_the_others_out(tmp_path: Path):
    server = Server(tmp_path / "server.log", AMBULANTE_DATA_DIR=str(tmp_path / "data"))
    held = []
    try:
        for _ in range(SLOW_CLIENTS):
            connection = socket.create_connection((HOST, server.port), timeout=5)
            connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            held.append(connection)
        time.sleep(0.5)  # every one accepted and waiting for the rest of its headers
        answer = http.client.HTTPConnection(HOST, server.port, timeout=10)
        try:
            answer.request("GET", "/healthz")
            assert answer.getresponse().status == 200
        finally:
            answer.close()
    finally:
        for connection in held:
            connection.close()
        server.stop()


def test_without_a_public_url_run_py_links_to_where_it_serves(tmp_path: Path):
    server = Server(tmp_path / "server.log", AMBULANTE_DATA_DIR=str(tmp_path / "data"))
    connection = http.client.HTTPConnection(HOST, server.port, timeout=10)
    try:
        connection.request(
            "POST",
            "/api/v1/bookings",
            body=json.dumps(api_body()),
            # Another name for the same machine: the link must not follow it.
            headers={"Content-Type": "application/json", "Host": f"localhost:{server.port}"},
        )
        response = connection.getresponse()
        assert response.status == 201
        assert json.loads(response.read())["manage_url"].startswith(f"{server.url}/bookings/")
    finally:
        connection.close()
        server.stop()


def test_a_host_the_site_does_not_answer_to_gets_a_plain_400(tmp_path: Path):
    server = Server(
        tmp_path / "server.log",
        AMBULANTE_DATA_DIR=str(tmp_path / "data"),
        AMBULANTE_PUBLIC_URL="https://ambulante.example.org",
    )
    try:
        for path in ("/", "/healthz", "/book/expo-interieure", "/api/v1/offerings"):
            connection = http.client.HTTPConnection(HOST, server.port, timeout=10)
            try:
                connection.request("GET", path, headers={"Host": "evil.example"})
                response = connection.getresponse()
                assert (response.status, response.read()) == (400, b"Unknown host.\n"), path
            finally:
                connection.close()
    finally:
        server.stop()
    assert "Traceback" not in server.log()
