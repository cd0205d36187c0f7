"""xlsx import and export: per-row errors, nothing written on a bad file, limits, round trip."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook

from bianmin.catalog.xlsx import ImportRefused
from bianmin.core.errors import Forbidden, Invalid, TooLarge, UnsupportedType
from bianmin.core.imports import limits_for
from bianmin.core.models import AuditEntry
from bianmin.policies import exports, xlsx
from bianmin.policies.models import Policy, State


def _book(rows, header=None) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(header or xlsx.HEADERS)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _row(**values) -> list:
    base = {"title": "2026年福州市失业保险稳岗返还", "aliases": "稳岗返还；稳岗补贴", "category": "稳岗就业",
            "lead_department": "P-RSJ", "handling_office": "就业促进处", "handling_phone": "0591-87113285",
            "valid_from": "2026-01-01", "valid_until": "2026年12月31日", "benefits": "按60%返还", "conditions": "参保满12个月",
            "materials": "无需申请", "procedure": "大数据比对后直接返还", "industries": "C 制造业、65", "sizes": "小型、微",
            "areas": "350102", "tags": "稳岗", "no_application": "是"}
    base.update(values)
    return [base.get(f, "") for f, _, _ in xlsx.COLUMNS]


def test_a_good_file_creates_drafts_with_every_field(editors, pdepts, areas):
    result = xlsx.import_policies(actor=editors["a"], data=_book([_row(), _row(title="第二项", code="RSJ-02")]))
    assert (result.created, result.updated, result.revised) == (2, 0, 0)
    p = Policy.objects.get(title="2026年福州市失业保险稳岗返还")
    assert p.state == State.DRAFT and p.alias_list == ["稳岗返还", "稳岗补贴"] and p.category == "employment"
    assert p.industries == ["C", "65"] and p.sizes == ["small", "micro"] and p.no_application
    assert [a.code for a in p.areas.all()] == ["350102000000"] and str(p.valid_until) == "2026-12-31"
    assert Policy.objects.filter(code="RSJ-02").exists()
    assert AuditEntry.objects.filter(action=AuditEntry.Action.IMPORT, target_type="policies.policy").count() == 3


def test_a_bad_file_reports_every_error_by_row_and_column_and_writes_nothing(editors, pdepts):
    rows = [_row(), _row(category="救济", valid_from="明年"), _row(lead_department="NOPE", sizes="巨型", industries="ZZ"),
            _row(code="A1"), _row(code="A1", no_application="也许")]
    with pytest.raises(ImportRefused) as exc:
        xlsx.import_policies(actor=editors["a"], data=_book(rows))
    found = {(e.row, e.column) for e in exc.value.errors}
    assert {(3, "政策类别"), (3, "执行期限起"), (4, "牵头部门编码"), (4, "适用企业规模"), (4, "适用行业"), (6, "政策编号"),
            (6, "免申即享")} <= found
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in e.message) for e in exc.value.errors)
    assert not Policy.objects.exists()


def test_rows_outside_the_editors_scope_are_errors(editors, pdepts):
    with pytest.raises(ImportRefused) as exc:
        xlsx.import_policies(actor=editors["gulou"], data=_book([_row()]))
    assert exc.value.errors[0].row == 2 and not Policy.objects.exists()


@pytest.mark.parametrize("data, error", [
    (b"not a workbook", UnsupportedType),
    (b"x" * (limits_for(xlsx.IMPORT_KIND).max_bytes + 1), TooLarge),
])
def test_unreadable_or_oversized_files_are_refused(editors, data, error):
    with pytest.raises(error):
        xlsx.import_policies(actor=editors["a"], data=data)


def test_too_many_rows_stop_the_read(editors, pdepts, settings):
    settings.BIANMIN_IMPORT_LIMITS = {"policies": {"max_rows": 3}}
    with pytest.raises(Invalid, match="上限 3 行"):
        xlsx.import_policies(actor=editors["a"], data=_book([_row(title=f"政策{i}") for i in range(5)]))
    assert not Policy.objects.exists()


def test_a_wrong_header_is_one_error(editors):
    with pytest.raises(ImportRefused) as exc:
        xlsx.import_policies(actor=editors["a"], data=_book([], header=["政策名称", "别的"]))
    assert exc.value.errors[0].row == 1 and "缺少列" in exc.value.errors[0].message


def test_import_updates_a_draft_and_revises_a_public_policy(editors, pdepts, content, publish):
    draft = xlsx.import_policies(actor=editors["a"], data=_book([_row(code="D-1")]))
    assert draft.created == 1
    public = publish(content(), code="P-1")
    result = xlsx.import_policies(actor=editors["a"], data=_book([_row(code="D-1", benefits="按70%返还"),
                                                                   _row(code="P-1", benefits="按90%返还")]))
    assert (result.created, result.updated, result.revised) == (0, 1, 1)
    assert Policy.objects.get(code="D-1").benefits == "按70%返还"
    revision = Policy.objects.get(code="P-1", version=2)
    assert revision.state == State.DRAFT and revision.benefits == "按90%返还"
    assert Policy.objects.get(pk=public.pk).state == State.PUBLISHED


def test_export_reads_back_as_an_import(editors, pdepts, content, publish):
    publish(content(sizes=["small"], industries=["C"]), code="P-1")
    rows = list(exports.library_rows(editors["a"]))
    data = _book(rows, header=xlsx.EXPORT_HEADER)
    sheet = load_workbook(io.BytesIO(data)).active
    assert [c.value for c in sheet[1]] == xlsx.EXPORT_HEADER
    assert sheet["A2"].value == "P-1" and sheet["S2"].value == "小型"
    result = xlsx.import_policies(actor=editors["a"], data=data)
    assert result.revised == 1


def test_the_library_export_job_is_scoped(editors, content, publish, pdepts):
    publish(content(), code="CITY-1")
    publish(content(lead_department=pdepts["gulou_gxj"]), code="GULOU-1")
    gulou = [r[0] for r in exports.policy_library_export(editors["gulou"], {}).rows]
    assert gulou == ["GULOU-1"]
    with pytest.raises(Exception, match="状态无效"):
        exports.policy_library_export(editors["a"], {"state": "bogus"})


def test_import_refuses_system_only_publishing(editors, content):
    from bianmin.policies import services

    with pytest.raises(Forbidden):
        services.policies_load(actor=editors["a"], rows=[("", content())], files=[[]])
