"""core.paging: the list window every slicing route uses, and the errors' shared input checks."""

from __future__ import annotations

import pytest

from bianmin.core.errors import Invalid, clean_text
from bianmin.core.paging import window


@pytest.mark.parametrize(("limit", "offset", "expected"), [
    (50, 0, (50, 0)),
    (0, -5, (1, 0)),
    (10_000, 10**30, (200, 10**9)),  # an offset past SQLite's integer would be a 500
])
def test_window_keeps_limit_and_offset_in_range(limit, offset, expected):
    assert window(limit, offset) == expected


def test_clean_text_strips_requires_and_limits():
    assert clean_text("  原因 ", "reason", "原因") == "原因"
    assert clean_text(None, "note", "备注", required=False) == ""
    assert clean_text(12, "n", "编号") == "12"
    with pytest.raises(Invalid) as empty:
        clean_text("  ", "reason", "撤销原因")
    assert (empty.value.message, empty.value.field) == ("请填写撤销原因", "reason")
    with pytest.raises(Invalid) as long:
        clean_text("字" * 11, "reason", "撤销原因", limit=10)
    assert long.value.message == "撤销原因不能超过 10 字"
