from __future__ import annotations

import pytest
from evaluations.conftest import calendar, django_db_setup  # noqa: F401  (the working-day calendar, the cache table)


@pytest.fixture(autouse=True)
def exports_dir(settings, tmp_path):
    """Each test writes its files into its own folder."""
    folder = tmp_path / "exports"
    folder.mkdir()
    settings.BIANMIN_EXPORTS_DIR = str(folder)
    return folder


@pytest.fixture
def scaled(areas, calendar):  # noqa: F811 (the imported fixture, requested)
    """A couple of months of cases with their follow-ups and rectifications (bianmin/demo/scale.py)."""
    from bianmin.demo.scale import generate

    return generate(900, days=40, chunk=450)


@pytest.fixture
def numbers():
    """A test exporter, "test.numbers": params {"n": N} → N rows [i, "第i行"]; ``hooks`` lets a
    test act while the rows are being written (hooks[i] runs before row i is yielded)."""
    from bianmin.core.errors import Invalid
    from bianmin.exports import registry

    hooks: dict = {}

    def prepare(actor, params):
        n = params.get("n")
        if not isinstance(n, int) or n < 0:
            raise Invalid("行数应为非负整数", field="n")

        def rows():
            for i in range(1, n + 1):
                if i in hooks:
                    hooks[i]()
                yield [i, f"第{i}行"]

        return registry.Export(title=f"数字_{n}", header=["序号", "内容"], rows=rows(), count=lambda: n)

    registry.register("test.numbers", "测试导出", prepare)
    yield hooks
    registry._EXPORTERS.pop("test.numbers", None)
