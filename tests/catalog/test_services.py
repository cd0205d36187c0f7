import pytest

from bianmin.catalog.models import Item, StandardItem
from bianmin.core.errors import Conflict, Invalid


def test_duplicate_code_is_a_conflict(dibao, make_standard):
    with pytest.raises(Conflict) as exc:
        make_standard("另一个事项", code=dibao.code)
    assert "已存在" in exc.value.message
    assert StandardItem.objects.filter(code=dibao.code).count() == 1


def test_promised_limit_over_legal_is_refused(dibao, item_at):
    with pytest.raises(Invalid) as exc:
        item_at(dibao, promised_limit_days=31)
    assert "不能超过法定时限" in exc.value.message
    assert not Item.objects.exists()


def test_implementation_code_joins_item_area_and_credit_code(dibao, item_at, sites):
    item = item_at(dibao, promised_limit_days=10, implementing_body_credit_code="11350102003600123A")
    assert item.implementation_code == "350100000001" + sites["gudong"].area.code + "11350102003600123A"


def test_local_edit_of_shared_element_is_refused(dibao, item_at):
    from bianmin.catalog.services import item_update

    item = item_at(dibao, promised_limit_days=10)
    with pytest.raises(Invalid) as exc:
        item_update(actor=None, item=item, changes={"acceptance_conditions": "改一下"})
    assert "共享要素" in exc.value.message and exc.value.status == 422
    item_update(actor=None, item=item, changes={"phone": "0591-88888888"})
    item.refresh_from_db()
    assert item.phone == "0591-88888888"
