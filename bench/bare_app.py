"""The baseline of bench/pages.py: a bare Flask page, served by the same server as the app."""

from flask import Flask

app = Flask(__name__)


@app.get("/bare")
def bare() -> str:
    return "<!doctype html><title>Bare</title><p>A page with nothing behind it.</p>"
