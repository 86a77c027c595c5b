"""The composition root: the features Ambulante is made of, and `python run.py [--host H]
[--port P]` to serve them with waitress. `flask --app run <command>` runs every command;
gunicorn serves `run:create_app()`."""

from __future__ import annotations

import argparse
import socket
from typing import Any

from flask import Flask
from waitress import serve

import booking
import kiosk
import kiosk.counting
import media
import media.jobs
from core import settings
from core.app import build_app

FEATURES = (booking, media, kiosk)

# Many idle or slow connections (a phone on a weak network, or someone holding sockets open)
# must not shut everyone else out: waitress's own defaults are 100 connections, 120 s idle.
CONNECTION_LIMIT = 1000
IDLE_SECONDS = 30
WILDCARD_HOSTS = ("0.0.0.0", "::", "")


def create_app(config: dict[str, Any] | None = None) -> Flask:
    return build_app(FEATURES, config)


def served_address(host: str, port: int) -> str:
    """Links in mail point where this process serves, when no public URL is configured."""
    name = socket.gethostname() if host in WILDCARD_HOSTS else host
    return f"http://[{name}]:{port}" if ":" in name else f"http://{name}:{port}"


def waitress_options(threads: int, trusted_proxies: int) -> dict[str, Any]:
    options: dict[str, Any] = {
        "threads": threads,
        "connection_limit": CONNECTION_LIMIT,
        "channel_timeout": IDLE_SECONDS,
        "asyncore_use_poll": True,  # select() stops at 1024 open sockets
    }
    if trusted_proxies:
        # Waitress drops X-Forwarded-* unless told to trust them: then the client's address
        # (rate limits) and the scheme come from the proxies in front, as under gunicorn.
        options.update(
            trusted_proxy="*",
            trusted_proxy_count=trusted_proxies,
            trusted_proxy_headers={"x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"},
            clear_untrusted_proxy_headers=True,
        )
    return options


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve Ambulante.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    configured = settings.read("PUBLIC_URL")
    everywhere = args.host in WILDCARD_HOSTS
    app = create_app(
        None
        if configured
        # On every interface, people use whichever address reaches the machine: any Host
        # is answered (links still never use it) until AMBULANTE_PUBLIC_URL says which.
        else {"PUBLIC_URL": served_address(args.host, args.port), "ANSWER_ANY_HOST": everywhere}
    )
    # Portraits' sizes are made beside the requests, not in them (`flask --app run media work`
    # does the same for gunicorn).
    media.jobs.start_worker(app)
    kiosk.counting.start_flusher(app)  # adds scans kept while the database was busy
    base = f"http://{args.host}:{args.port}"
    print(f"Ambulante is serving on {base}/  (JSON API: {base}/api/v1/offerings)", flush=True)
    if not configured and everywhere:
        print(
            f"Links in messages point to {app.config['PUBLIC_URL']}/: set "
            "AMBULANTE_PUBLIC_URL to the address people use.",
            flush=True,
        )
    serve(
        app,
        host=args.host,
        port=args.port,
        **waitress_options(args.threads, app.config["TRUSTED_PROXIES"]),
    )


if __name__ == "__main__":
    main()
