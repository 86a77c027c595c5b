"""The composition root: the features Ambulante is made of, and `python run.py [--host H]
[--port P]` to serve them with waitress. `flask --app run <command>` runs every command;
gunicorn serves `run:create_app()`."""

from __future__ import annotations

import argparse
from typing import Any

from flask import Flask
from waitress import serve

import booking
from core.app import build_app

FEATURES = (booking,)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    return build_app(FEATURES, config)


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve Ambulante.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    app = create_app()
    base = f"http://{args.host}:{args.port}"
    print(f"Ambulante is serving on {base}/  (JSON API: {base}/api/v1/offerings)", flush=True)
    serve(app, host=args.host, port=args.port, threads=args.threads)


if __name__ == "__main__":
    main()
