import pytest
from conftest import GUDONG, GUXI


@pytest.fixture
def site_factory(areas):
    """site_factory(area_code) → a 便民服务中心 in that area (through the regions service)."""
    from bianmin.regions.services import site_create

    counter = {"n": 0}

    def _make(area_code: str = GUDONG, **fields):
        counter["n"] += 1
        return site_create(actor=None, code=fields.pop("code", f"T{area_code}{counter['n']:03d}"),
                           name=fields.pop("name", f"测试中心{counter['n']}"), kind=fields.pop("kind", "center"),
                           area=areas[area_code], **fields)

    return _make


@pytest.fixture
def gudong_site(site_factory):
    return site_factory(GUDONG)


@pytest.fixture
def guxi_site(site_factory):
    return site_factory(GUXI)
