from ninja import Router, Schema

from . import selectors

router = Router(tags=["区划与服务场所"])


class AreaOut(Schema):
    code: str
    name: str
    level: str
    level_name: str
    parent_code: str | None
    is_functional_zone: bool


def _area_out(area) -> dict:
    return {
        "code": area.code,
        "name": area.name,
        "level": area.level,
        "level_name": area.get_level_display(),
        "parent_code": area.parent.code if area.parent_id else None,
        "is_functional_zone": area.is_functional_zone,
    }


@router.get("areas/{code}", response=AreaOut, summary="查询行政区划")
def area_detail(request, code: str):
    return _area_out(selectors.area_get(code=code))


@router.get("areas/{code}/children", response=list[AreaOut], summary="下级行政区划")
def area_children(request, code: str):
    area = selectors.area_get(code=code)
    return [_area_out(a) | {"parent_code": area.code} for a in selectors.area_children(area=area)]
