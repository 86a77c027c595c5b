"""Serves Ambulante with waitress: `python run.py [--host H] [--port P]`."""

import argparse

from waitress import serve

from core.app import create_app


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
