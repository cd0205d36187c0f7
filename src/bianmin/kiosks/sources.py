"""Data sources of the certificates: one small interface, one adapter per registry.

A certificate states what a department's registry says about a person (社保缴费记录, 户籍, 不动产
登记…). The kiosk does not own those registries; an adapter asks one and answers with the facts
to print, or says why it cannot:

    class Source:
        label: str                                   # the registry, in Chinese
        def fetch(self, query: Query, *, timeout: float) -> Found

- ``Found``: the facts (label, value) printed on the certificate, the certifying sentence and the
  issuing body.
- ``Refused``: the registry answered, and there is nothing to certify (no record, the name does
  not match the ID number, property on record for a 无房证明). The message is for the citizen.
- ``Unavailable`` (and ``TimedOut``): the registry could not be asked. Nothing is issued.

Adapters are configured by code in ``settings.BIANMIN_KIOSK_SOURCES`` ({code: dotted path}); the
demo adapters below read synthetic registries (``RegistryRecord``) that the demo data creates.
``HttpJsonSource`` is the shape of a real department interface (JSON over HTTP with a timeout).
"""

from __future__ import annotations

import hashlib
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import date

from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Query:
    id_number: str
    name: str


@dataclass
class Found:
    facts: list[tuple[str, str]]
    statement: str
    issuer: str
    validity_days: int | None = None  # None: the item's own validity
    extra_rows: list[list[str]] = field(default_factory=list)  # an optional detail table, header first


class SourceProblem(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Refused(SourceProblem):
    """The registry answered: nothing to certify."""


class Unavailable(SourceProblem):
    """The registry could not be asked (down, refused the connection, answered nonsense)."""


class TimedOut(Unavailable):
    """The registry did not answer in time."""


class Source:
    label = "数据源"

    def fetch(self, query: Query, *, timeout: float) -> Found:  # pragma: no cover - interface
        raise NotImplementedError


# The clock the caller measures an adapter's answer time with (tests move it instead of sleeping).
clock = time.monotonic


def get(code: str) -> Source:
    from . import conf

    path = conf.sources().get(code)
    if path is None:
        raise Unavailable("该证明的数据源未配置，请到窗口办理")
    return import_string(path)()


def ask(code: str, query: Query, *, timeout: float) -> Found:
    """Ask the source `code`; a late answer counts as no answer (the citizen was told to wait at
    most `timeout` seconds, and an answer after that may be stale). Any other failure of an
    adapter is Unavailable: a broken adapter must not issue a certificate nor show a 500."""
    source = get(code)
    started = clock()
    try:
        found = source.fetch(query, timeout=timeout)
    except SourceProblem:
        raise
    except Exception as exc:  # an adapter's own bug or an unexpected library error
        raise Unavailable(f"{source.label}暂时无法查询，请稍后再试或到窗口办理") from exc
    if clock() - started > timeout:
        raise TimedOut(f"{source.label}查询超时，本次未出具证明，请稍后再试或到窗口办理")
    if not isinstance(found, Found) or not found.facts:
        raise Unavailable(f"{source.label}返回的数据不完整，本次未出具证明，请到窗口办理")
    return found


def label_of(code: str) -> str:
    """The registry behind a source, in Chinese (the code itself when it cannot be loaded)."""
    try:
        return get(code).label
    except (SourceProblem, ImportError):
        return code


# --- demo registries ---------------------------------------------------------------------------


def id_digest(id_number: str) -> str:
    """How the synthetic registries key a person (never the ID number itself)."""
    return hashlib.sha256(f"bianmin-registry:{id_number}".encode()).hexdigest()


class RegistrySource(Source):
    """Reads one synthetic registry; checks that the name matches the ID number."""

    registry = ""
    not_found = "未查询到您的登记记录"

    def record(self, query: Query):
        from .models import RegistryRecord

        row = RegistryRecord.objects.filter(registry=self.registry, id_digest=id_digest(query.id_number)).first()
        if row is None:
            raise Refused(self.not_found)
        if row.name != query.name:
            raise Refused("姓名与身份证号码不一致，请核对后重试")
        return row


def _ym(value: str) -> str:
    year, month = value.split("-")
    return f"{year}年{int(month)}月"


class SocialInsuranceSource(RegistrySource):
    label = "社会保险缴费登记"
    registry = "social_insurance"
    not_found = "未查询到您的社会保险参保缴费记录，请到社保窗口咨询"
    issuer = "福州市社会劳动保险中心"

    def fetch(self, query: Query, *, timeout: float) -> Found:
        data = self.record(query).data
        months = data.get("months", [])
        return Found(
            facts=[("参保单位", data["unit"]), ("参保险种", "、".join(data["kinds"])),
                   ("参保起始年月", _ym(data["since"])), ("累计缴费月数", f"{data['paid_months']} 个月"),
                   ("最近缴费年月", _ym(months[-1]["month"]) if months else "—")],
            statement="经查询，以上人员在本市参加社会保险，缴费情况如上。",
            issuer=self.issuer,
            extra_rows=[["缴费年月", "缴费基数（元）", "个人缴费（元）"]]
            + [[_ym(m["month"]), f"{m['base']:.2f}", f"{m['personal']:.2f}"] for m in months[-12:]],
        )


class MedicalInsuranceSource(RegistrySource):
    label = "医疗保险参保登记"
    registry = "social_insurance"
    not_found = "未查询到您的医疗保险参保记录，请到医保窗口咨询"

    def fetch(self, query: Query, *, timeout: float) -> Found:
        data = self.record(query).data
        if "医疗保险" not in data.get("kinds", []):
            raise Refused("未查询到您的医疗保险参保记录，请到医保窗口咨询")
        months = data.get("months", [])
        return Found(
            facts=[("参保单位", data["unit"]), ("参保类别", "职工基本医疗保险"), ("参保起始年月", _ym(data["since"])),
                   ("参保状态", "正常参保" if months else "暂停缴费"),
                   ("最近缴费年月", _ym(months[-1]["month"]) if months else "—")],
            statement="经查询，以上人员参加本市基本医疗保险，参保缴费情况如上。",
            issuer="福州市医疗保障基金中心",
        )


class HouseholdSource(RegistrySource):
    label = "户籍登记"
    registry = "household"
    not_found = "未查询到您的本市户籍登记信息，请到户籍窗口办理"

    def fetch(self, query: Query, *, timeout: float) -> Found:
        data = self.record(query).data
        birth = date.fromisoformat(data["birth"])
        return Found(
            facts=[("姓名", query.name), ("性别", data["sex"]), ("民族", data.get("ethnicity", "汉族")),
                   ("出生日期", f"{birth.year}年{birth.month}月{birth.day}日"), ("公民身份号码", query.id_number),
                   ("户籍地址", data["address"]), ("户口登记机关", data["police"])],
            statement="兹证明以上人员为本市常住户口，本证明供其在居民身份证办理期间临时证明身份使用。",
            issuer=data["police"],
            validity_days=90,
        )


class PropertySource(RegistrySource):
    """无房证明: the person must be on the household registry, and own nothing on the property
    registry (an absent row there means no property)."""

    label = "不动产登记"
    registry = "household"
    not_found = "未查询到您的本市户籍登记信息，无法出具无房证明，请到窗口办理"

    def fetch(self, query: Query, *, timeout: float) -> Found:
        from .models import RegistryRecord

        self.record(query)
        owned = RegistryRecord.objects.filter(registry="property", id_digest=id_digest(query.id_number)).first()
        if owned is not None and owned.data.get("properties"):
            raise Refused("经查询，您名下有不动产登记记录，不能出具无房证明")
        return Found(
            facts=[("查询范围", "福州市不动产登记信息（含商品房、房改房、自建房）"), ("查询结果", "无登记记录")],
            statement="经查询本市不动产登记信息，截至出具之日，以上人员名下无住房登记记录。",
            issuer="福州市不动产登记和交易中心",
        )


class MarriageSource(RegistrySource):
    label = "婚姻登记"
    registry = "marriage"
    not_found = "未查询到您的婚姻登记记录"

    def fetch(self, query: Query, *, timeout: float) -> Found:
        data = self.record(query).data
        return Found(
            facts=[("婚姻登记记录", data["status"]), ("登记机关", data.get("office", "—")),
                   ("登记日期", data.get("registered_on", "—"))],
            statement="经查询本市婚姻登记信息，以上人员的婚姻登记记录如上。",
            issuer="福州市民政局婚姻登记处",
        )


DEMO_SOURCES = {
    "social_insurance": "bianmin.kiosks.sources.SocialInsuranceSource",
    "medical_insurance": "bianmin.kiosks.sources.MedicalInsuranceSource",
    "household": "bianmin.kiosks.sources.HouseholdSource",
    "property": "bianmin.kiosks.sources.PropertySource",
    "marriage": "bianmin.kiosks.sources.MarriageSource",
}


# --- the shape of a real interface -------------------------------------------------------------


class HttpJsonSource(Source):
    """A department interface: POST {"id_number", "name"} as JSON, answer
    {"found": true, "facts": [[label, value]…], "statement": …, "issuer": …} or
    {"found": false, "message": …}. Subclass with ``url`` (and headers for its credentials)."""

    url = ""
    headers: dict[str, str] = {}

    def fetch(self, query: Query, *, timeout: float) -> Found:
        body = json.dumps({"id_number": query.id_number, "name": query.name}).encode()
        request = urllib.request.Request(self.url, data=body, method="POST",
                                         headers={"Content-Type": "application/json", **self.headers})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - configured URL
                answer = json.loads(response.read(1_000_000))
        except TimeoutError as exc:
            raise TimedOut(f"{self.label}查询超时，本次未出具证明，请稍后再试或到窗口办理") from exc
        except (urllib.error.URLError, OSError, ValueError) as exc:
            if isinstance(getattr(exc, "reason", None), TimeoutError):
                raise TimedOut(f"{self.label}查询超时，本次未出具证明，请稍后再试或到窗口办理") from exc
            raise Unavailable(f"{self.label}暂时无法查询，请稍后再试或到窗口办理") from exc
        if not answer.get("found"):
            raise Refused(str(answer.get("message") or "未查询到相关记录")[:200])
        return Found(facts=[(str(k), str(v)) for k, v in answer.get("facts", [])],
                     statement=str(answer.get("statement", "")), issuer=str(answer.get("issuer", self.label)))
