"""PreparedQuery / ScopedOne (core/prepared.py, core/scoping.py): compiled once, the same objects
as the queryset they stand for, values bound as parameters (LIKE-escaped), the same scope rule."""

from __future__ import annotations

import pytest
from conftest import CITY, GUDONG, GULOU, GUXI
from django.db.models.functions import Upper

from bianmin.core.errors import NotFound
from bianmin.core.models import AuditEntry
from bianmin.core.prepared import PreparedQuery
from bianmin.core.scoping import ScopedOne, get_scoped
from bianmin.regions.models import Area


def _entry(label: str, area_code: str = "") -> AuditEntry:
    return AuditEntry.objects.create(actor_label=label, action="create", target_type="t", target_id="1",
                                     target_label="x", area_code=area_code, changes={"k": [1, "二"]})


@pytest.mark.django_db
def test_rows_equal_the_querysets_with_converters_and_annotations():
    a, b = _entry("甲"), _entry("乙")
    by_label = PreparedQuery(lambda label: AuditEntry.objects.annotate(big=Upper("target_type"))
                             .filter(actor_label=label).order_by("id"))
    for entry in (a, b):
        got, = by_label(label=entry.actor_label)
        want = AuditEntry.objects.annotate(big=Upper("target_type")).get(pk=entry.pk)
        assert [getattr(got, f.attname) for f in AuditEntry._meta.concrete_fields] == \
               [getattr(want, f.attname) for f in AuditEntry._meta.concrete_fields]
        assert got.at.tzinfo is not None and got.changes == {"k": [1, "二"]} and got.big == "T"
    assert by_label(label="丙") == []


@pytest.mark.django_db
def test_startswith_values_are_escaped_so_like_metacharacters_match_literally():
    literal, lookalike = _entry("a_b%c-1"), _entry("axbyc-2")
    starting = PreparedQuery(lambda prefix: AuditEntry.objects.filter(actor_label__startswith=prefix).order_by("id"))
    assert [e.pk for e in starting(prefix="a_b%")] == [literal.pk]
    assert [e.pk for e in starting(prefix="a")] == [literal.pk, lookalike.pk]
    by_pk = PreparedQuery(lambda pk: AuditEntry.objects.filter(pk=pk))
    assert [e.actor_label for e in by_pk(pk=lookalike.pk)] == ["axbyc-2"]


@pytest.mark.django_db
def test_related_rows_come_with_the_object(areas, django_assert_num_queries):
    by_code = PreparedQuery(lambda code: Area.objects.select_related("parent").filter(code=code))
    by_code(code=GULOU)  # compiled here
    with django_assert_num_queries(1):
        gudong, = by_code(code=GUDONG)
        assert gudong.parent.code == GULOU and gudong.parent.name == areas[GULOU].name


def test_values_must_be_parameters_of_a_supported_type():
    with pytest.raises(TypeError):
        PreparedQuery(lambda when: AuditEntry.objects.filter(at=when))(when=1.5)
    with pytest.raises(ValueError, match="parameter"):
        PreparedQuery(lambda label: AuditEntry.objects.filter(actor_label="固定"))(label="x")


@pytest.mark.django_db
def test_scoped_one_keeps_the_scope_rule_of_get_scoped(areas, make_user):
    from bianmin.accounts.principals import principal_for_user
    from bianmin.regions.models import ServiceSite

    for code in (GUDONG, GUXI):
        ServiceSite.objects.create(code=f"S{code}", name=f"{areas[code].name}便民服务中心", kind="center", area=areas[code])
    by_code = ScopedOne(lambda code: ServiceSite.objects.select_related("area").filter(code=code))
    township = principal_for_user(make_user("center_manager", GUDONG))
    city = principal_for_user(make_user("city_admin", CITY))
    assert by_code.get(township, "view", code=f"S{GUDONG}").area.code == GUDONG
    with pytest.raises(NotFound):
        by_code.get(township, "view", code=f"S{GUXI}")  # out of scope: not found
    with pytest.raises(NotFound):
        by_code.get(township, "no-such-capability", code=f"S{GUDONG}")
    with pytest.raises(NotFound):
        by_code.get(city, "view", code="S-none")
    for code in (GUDONG, GUXI):
        assert by_code.get(city, "view", code=f"S{code}") == get_scoped(
            ServiceSite.objects.all(), city, "view", code=f"S{code}")


@pytest.mark.django_db
def test_datetime_values_are_adapted_like_the_orms():
    from datetime import timedelta

    from django.utils import timezone

    old, new = _entry("旧"), _entry("新")
    AuditEntry.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=3))
    since_q = PreparedQuery(lambda since: AuditEntry.objects.filter(at__gte=since).order_by("id").only("at"))
    for since in (timezone.now() - timedelta(days=1), timezone.now() - timedelta(days=5)):
        assert [e.pk for e in since_q(since=since)] == list(
            AuditEntry.objects.filter(at__gte=since).order_by("id").values_list("pk", flat=True))
    assert [e.pk for e in since_q(since=timezone.now() - timedelta(days=1))] == [new.pk]
    with pytest.raises(TypeError):
        PreparedQuery(lambda since: AuditEntry.objects.filter(at__gte=since))(since=timezone.now().replace(tzinfo=None))
