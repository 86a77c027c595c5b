"""Portraits: ingest, derivatives, consent, the staff portrait library.

Not built yet; the layering contract (pyproject.toml, import-linter) already holds it."""
