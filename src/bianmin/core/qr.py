"""QR codes for evaluation links, guides and kiosk pages, made locally with segno (no
network). Error correction M: codes printed on window cards survive some wear; the version is
the smallest that fits."""

from __future__ import annotations

import base64
import io

import segno


def _make(url: str) -> segno.QRCode:
    if not url:
        raise ValueError("url is required")
    return segno.make(url, error="m", micro=False, boost_error=False)


def qr_svg(url: str, *, scale: int = 4, border: int = 2, title: str | None = None) -> str:
    """An inline <svg> element (no XML declaration), to put straight into a page."""
    out = io.BytesIO()
    _make(url).save(out, kind="svg", scale=scale, border=border, xmldecl=False, svgns=True,
                    title=title, unit=None, encoding="utf-8")
    return out.getvalue().decode("utf-8")


def qr_png(url: str, *, scale: int = 8, border: int = 2) -> bytes:
    """PNG bytes, for printing and downloads."""
    out = io.BytesIO()
    _make(url).save(out, kind="png", scale=scale, border=border)
    return out.getvalue()


def qr_png_data_uri(url: str, *, scale: int = 8, border: int = 2) -> str:
    """A data: URI of the PNG, for <img src> in pages and PDFs."""
    return "data:image/png;base64," + base64.b64encode(qr_png(url, scale=scale, border=border)).decode("ascii")
