import base64

import pytest
import segno

from bianmin.core.qr import qr_png, qr_png_data_uri, qr_svg

URL = "http://127.0.0.1:8000/evaluations/e/AbC123"


def test_svg_is_an_inline_element():
    svg = qr_svg(URL, title="扫码评价")
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert "<?xml" not in svg and "<title>扫码评价</title>" in svg


def test_png_bytes():
    png = qr_png(URL)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert qr_png_data_uri(URL).startswith("data:image/png;base64,")
    assert base64.b64decode(qr_png_data_uri(URL).split(",", 1)[1]) == png


def test_same_symbol_as_segno_with_error_correction_m():
    # what a phone decodes is the symbol: the same matrix segno makes for the URL at level M
    expected = segno.make(URL, error="m", micro=False, boost_error=False)
    assert expected.error == "M"
    svg = qr_svg(URL, scale=1, border=0)
    assert f'width="{expected.symbol_size(scale=1, border=0)[0]}"' in svg


def test_empty_url_is_refused():
    with pytest.raises(ValueError):
        qr_svg("")
