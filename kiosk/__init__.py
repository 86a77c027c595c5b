"""The kiosk: screens, slideshow, visitor pages, QR short links and scan counts.

Not built yet; the layering contract (pyproject.toml, import-linter) already holds it."""
