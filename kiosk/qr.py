"""QR code images, drawn as SVG with the qrcode library."""

from __future__ import annotations

import io

import qrcode
import qrcode.image.svg

QUIET_ZONE = 4  # modules of white around the code, as the standard asks


def qr_svg(url: str) -> bytes:
    """A square SVG a phone reads from across a room: medium error correction, the full
    quiet zone, black on white whatever the page's colours."""
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        border=QUIET_ZONE,
        image_factory=qrcode.image.svg.SvgPathFillImage,
    )
    code.add_data(url)
    code.make(fit=True)
    out = io.BytesIO()
    code.make_image().save(out)
    return out.getvalue()
