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


# --- hierarchy and shared elements ---------------------------------------------------------

def test_hierarchy_main_sub_handling(make_standard):
    main = make_standard("食品经营许可", code="M1", item_type="license")
    sub = make_standard("食品经营许可（小餐饮）", code="M1-1", item_type="license", tier="sub", parent=main)
    handling = make_standard("食品经营许可（小餐饮）（延续）", code="M1-1-3", item_type="license", tier="handling",
                             parent=sub, handling_kind="renew")
    assert handling.parent.parent == main
    with pytest.raises(Invalid) as exc:
        make_standard("无上级的子项", code="M2", tier="sub")
    assert "上级事项" in exc.value.message
    with pytest.raises(Invalid) as exc:
        make_standard("缺办理项类型", code="M3", tier="handling", parent=main)
    assert "新设/变更/延续/注销" in exc.value.message
    with pytest.raises(Invalid):
        make_standard("子项挂在办理项下", code="M4", tier="sub", parent=handling)
    assert not StandardItem.objects.filter(code__in=["M2", "M3", "M4"]).exists()


def test_bad_material_trust_level_is_refused_and_nothing_written(make_standard):
    with pytest.raises(Invalid) as exc:
        make_standard("某事项", code="X1", materials=[{"name": "身份证", "trust_level": "E"}])
    assert "信任等级" in exc.value.message
    assert not StandardItem.objects.filter(code="X1").exists()


def test_shared_edit_shows_at_every_level_at_once(dibao, item_at):
    from bianmin.catalog.selectors import guide_elements
    from bianmin.catalog.services import standard_item_update

    a = item_at(dibao, "gudong", promised_limit_days=10)
    b = item_at(dibao, "guxi", promised_limit_days=15, implementing_body_credit_code="11350102MB0000002Y")
    standard_item_update(actor=None, standard_item=dibao, changes={"acceptance_conditions": "新的受理条件"},
                         materials=[{"name": "居民身份证", "trust_level": "A"}])
    for item in (a, b):
        item.refresh_from_db()
        g = guide_elements(item)
        assert g["acceptance_conditions"] == "新的受理条件"
        assert [m["name"] for m in g["materials"]] == ["居民身份证"]
        assert g["standard_version"] == 2


def test_code_cannot_be_changed(dibao):
    from bianmin.catalog.services import standard_item_update

    with pytest.raises(Invalid):
        standard_item_update(actor=None, standard_item=dibao, changes={"code": "999"})


def test_lowering_legal_limit_below_a_promise_is_refused(dibao, item_at):
    from bianmin.catalog.services import standard_item_update

    item_at(dibao, promised_limit_days=20)
    with pytest.raises(Invalid) as exc:
        standard_item_update(actor=None, standard_item=dibao, changes={"legal_limit_days": 10})
    assert "承诺时限" in exc.value.message
    dibao.refresh_from_db()
    assert dibao.legal_limit_days == 30


def test_unshared_element_may_be_set_locally(dibao, item_at, settings):
    from bianmin.catalog.selectors import guide_elements
    from bianmin.catalog.services import item_update

    settings.BIANMIN_SHARED_ELEMENTS = ["acceptance_conditions", "materials", "flow", "legal_limit_days"]
    item = item_at(dibao, promised_limit_days=10)
    item_update(actor=None, item=item, changes={"fee": "工本费5元"})
    item.refresh_from_db()
    assert guide_elements(item)["fee"] == "工本费5元"
    with pytest.raises(Invalid):  # still shared
        item_update(actor=None, item=item, changes={"flow": "另一个流程"})
    with pytest.raises(Invalid):  # always shared, whatever the setting
        item_update(actor=None, item=item, changes={"legal_basis": "某法"})


def test_duplicate_item_at_a_site_is_a_conflict(dibao, item_at):
    item_at(dibao, promised_limit_days=10)
    with pytest.raises(Conflict):
        item_at(dibao, promised_limit_days=5)


# --- handling modes ------------------------------------------------------------------------

def test_immediate_items_promise_zero_days(dibao, item_at):
    with pytest.raises(Invalid) as exc:
        item_at(dibao, promise_kind="immediate", promised_limit_days=3)
    assert "即办件" in exc.value.message
    item = item_at(dibao, promise_kind="immediate")
    assert item.promised_limit_days == 0


def test_authorized_mode_needs_the_authorising_department(dibao, item_at, depts):
    with pytest.raises(Invalid) as exc:
        item_at(dibao, "station", mode="authorized", promised_limit_days=5)
    assert "授权部门" in exc.value.message
    item = item_at(dibao, "station", mode="authorized", authorized_by=depts["gulou_minzheng"], promised_limit_days=5)
    assert item.authorized_by == depts["gulou_minzheng"]


def test_transfer_goes_only_to_a_higher_site(dibao, item_at, sites):
    with pytest.raises(Invalid) as exc:
        item_at(dibao, "station", mode="transfer", promised_limit_days=5)
    assert "转办" in exc.value.message
    with pytest.raises(Invalid) as exc:  # a sibling township's center is not above the village
        item_at(dibao, "station", mode="transfer", transfer_to_site=sites["guxi"], promised_limit_days=5)
    assert "上级" in exc.value.message
    item = item_at(dibao, "station", mode="transfer", transfer_to_site=sites["gudong"], promised_limit_days=5)
    assert item.transfer_to_site == sites["gudong"]


def test_window_must_belong_to_the_site(dibao, item_at, sites):
    other_window = sites["guxi"].windows.first()
    with pytest.raises(Invalid):
        item_at(dibao, "gudong", promised_limit_days=5, window=other_window)


# --- mappings ------------------------------------------------------------------------------

def test_mapping_is_unique_per_system_and_unmapped_codes_are_reported(dibao):
    from bianmin.catalog.models import UnmappedCode
    from bianmin.catalog.selectors import mapping_resolve
    from bianmin.catalog.services import mapping_create, mapping_report_unmapped

    mapping_create(actor=None, system="provincial_hall", external_code="FJ001", standard_item=dibao)
    with pytest.raises(Conflict):
        mapping_create(actor=None, system="provincial_hall", external_code="FJ001", standard_item=dibao)
    # the same code in another system is another mapping
    mapping_create(actor=None, system="hotline_12345", external_code="FJ001", standard_item=dibao)
    assert mapping_resolve(system="provincial_hall", external_code="FJ001").standard_item == dibao
    assert mapping_resolve(system="provincial_hall", external_code="FJ999") is None
    mapping_report_unmapped(system="provincial_hall", external_code="FJ999", external_name="某事项")
    mapping_report_unmapped(system="provincial_hall", external_code="FJ999")
    row = UnmappedCode.objects.get(system="provincial_hall", external_code="FJ999")
    assert row.seen_count == 2 and not row.resolved
    mapping_create(actor=None, system="provincial_hall", external_code="FJ999", standard_item=dibao)
    row.refresh_from_db()
    assert row.resolved


def test_mapping_targets_exactly_one(dibao, item_at):
    from bianmin.catalog.services import mapping_create

    item = item_at(dibao, promised_limit_days=5)
    with pytest.raises(Invalid):
        mapping_create(actor=None, system="construction", external_code="C1", standard_item=dibao, item=item)
    with pytest.raises(Invalid):
        mapping_create(actor=None, system="construction", external_code="C1")


# --- stationing ----------------------------------------------------------------------------

def test_stationing_duplicate_and_window_rules(depts, sites):
    from bianmin.catalog.services import stationing_create, stationing_update

    st = stationing_create(actor=None, department=depts["民政"], site=sites["gudong"], staff_count=2)
    with pytest.raises(Conflict):
        stationing_create(actor=None, department=depts["民政"], site=sites["gudong"])
    with pytest.raises(Invalid):
        stationing_update(actor=None, stationing=st, changes={"window": sites["guxi"].windows.first()})
    stationing_update(actor=None, stationing=st, changes={"window": sites["gudong"].windows.first()})


# --- guides --------------------------------------------------------------------------------

def test_publish_keeps_versions_and_compares(dibao, item_at):
    from bianmin.catalog.selectors import guide_compare
    from bianmin.catalog.services import item_publish, item_update, standard_item_update

    item = item_at(dibao, promised_limit_days=10)
    v1 = item_publish(actor=None, item=item, note="首次发布")
    with pytest.raises(Conflict):
        item_publish(actor=None, item=item)
    item_update(actor=None, item=item, changes={"promised_limit_days": 8, "phone": "0591-1"})
    standard_item_update(actor=None, standard_item=dibao, changes={"fee": "工本费10元"})
    diff = {d["field"]: d for d in guide_compare(item=item, a=1)}
    assert diff["promised_limit_days"]["old"] == 10 and diff["promised_limit_days"]["new"] == 8
    assert diff["fee"]["label"] == "收费标准" and diff["fee"]["new"] == "工本费10元"
    v2 = item_publish(actor=None, item=item, note="调整时限")
    assert (v1.number, v2.number) == (1, 2)
    assert {d["field"] for d in guide_compare(item=item, a=1, b=2)} >= {"promised_limit_days", "fee", "phone"}
    item.refresh_from_db()
    assert item.published_version == 2
    from bianmin.core.errors import NotFound

    with pytest.raises(NotFound):
        guide_compare(item=item, a=7)


# --- scope ---------------------------------------------------------------------------------

def test_staff_edit_only_within_their_area(dibao, item_at, make_user, sites):
    from conftest import GUDONG, GUXI

    from bianmin.accounts.principals import principal_for_user
    from bianmin.catalog.services import item_create, item_update, standard_item_update
    from bianmin.core.errors import Forbidden, NotFound

    gudong_mgr = principal_for_user(make_user("center_manager", GUDONG))
    guxi_mgr = principal_for_user(make_user("center_manager", GUXI))
    item = item_at(dibao, "gudong", promised_limit_days=10)
    item_update(actor=gudong_mgr, item=item, changes={"phone": "1"})
    with pytest.raises(NotFound):
        item_update(actor=guxi_mgr, item=item, changes={"phone": "2"})
    with pytest.raises(NotFound):
        item_create(actor=guxi_mgr, standard_item=dibao, area=sites["gudong"].area, site=sites["gudong"],
                    promised_limit_days=3)
    # a center manager cannot edit shared elements (city level)
    with pytest.raises((NotFound, Forbidden)):
        standard_item_update(actor=gudong_mgr, standard_item=dibao, changes={"fee": "x"})
