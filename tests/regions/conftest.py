import math

import pytest
from conftest import GUDONG

EARTH_RADIUS_M = 6371008.8


def moved(lng: float, lat: float, *, north_m: float = 0.0, east_m: float = 0.0) -> tuple[float, float]:
    """The point `north_m` metres north and `east_m` metres east of (lng, lat) on the sphere the
    selectors use (exact for pure north/south moves, within centimetres for short east moves)."""
    new_lat = lat + math.degrees(north_m / EARTH_RADIUS_M)
    new_lng = lng + math.degrees(east_m / (EARTH_RADIUS_M * math.cos(math.radians(lat))))
    return new_lng, new_lat


@pytest.fixture
def make_site(areas):
    """make_site(code, kind="center", area_code=GUDONG, lng=…, lat=…, **fields) through the service."""
    from bianmin.regions.services import site_create

    def _make(code: str, *, kind: str = "center", area_code: str = GUDONG, **fields):
        return site_create(actor=None, code=code, name=fields.pop("name", f"测试场所{code}"), kind=kind,
                           area=areas[area_code], **fields)

    return _make
