"""The scope rule's area helpers (core.scoping): the areas a principal works on, one chosen by
code, and the one pages open on. They replace four hand-built variants in the views."""

import pytest
from conftest import CITY, GUDONG, GULOU, GUXI, TAIJIANG

from bianmin.core.capabilities import Cap
from bianmin.core.errors import NotFound
from bianmin.core.principal import Grant, Principal
from bianmin.core.scoping import area_in_scope, areas_in_scope, home_area, home_area_code, home_path

pytestmark = pytest.mark.django_db


def _principal(areas, *grants):
    return Principal(label="t", grants=[Grant(areas[code].path, frozenset(caps)) for code, caps in grants])


def _area_qs():
    from bianmin.regions.models import Area

    return Area.objects.all()


def test_areas_in_scope_are_the_granted_subtrees_for_the_capability(areas):
    p = _principal(areas, (GUDONG, {Cap.VIEW}), (TAIJIANG, {Cap.APPEAL_HANDLE}))
    seen = set(areas_in_scope(_area_qs(), p, Cap.VIEW).values_list("code", flat=True))
    assert GUDONG in seen and GUXI not in seen and TAIJIANG not in seen and GULOU not in seen
    assert all(code.startswith("350102001") for code in seen)
    assert not areas_in_scope(_area_qs(), p, Cap.UNMASK).exists()


def test_area_in_scope_by_code_or_not_found(areas):
    p = _principal(areas, (GUDONG, {Cap.VIEW}))
    assert area_in_scope(_area_qs(), p, Cap.VIEW, code=f" {GUDONG} ").code == GUDONG
    with pytest.raises(NotFound) as exc:
        area_in_scope(_area_qs(), p, Cap.VIEW, code=GUXI)
    assert exc.value.field == "area" and exc.value.message == "未找到该区划"


def test_home_area_is_the_widest_grant_not_the_first_in_path_order(areas):
    # 鼓东 (a township of 鼓楼) sorts before 台江 (a district) by path; the district is wider.
    p = _principal(areas, (GUDONG, {Cap.VIEW}), (TAIJIANG, {Cap.VIEW}))
    assert home_path(p, Cap.VIEW) == areas[TAIJIANG].path
    assert home_area_code(p, Cap.VIEW) == TAIJIANG
    assert home_area(_area_qs(), p, Cap.VIEW).code == TAIJIANG
    city = _principal(areas, (CITY, {Cap.VIEW}), (GUDONG, {Cap.VIEW}))
    assert home_area(_area_qs(), city, Cap.VIEW).code == CITY


def test_no_grant_no_home(areas):
    p = _principal(areas, (GUDONG, {Cap.POLICY_EDIT}))
    assert home_path(p, Cap.VIEW) is None and home_area_code(p, Cap.VIEW) == ""
    with pytest.raises(NotFound, match="您没有可查看的辖区"):
        home_area(_area_qs(), p, Cap.VIEW)
