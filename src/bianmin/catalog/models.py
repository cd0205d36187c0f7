"""The service-item catalog.

A `StandardItem` (标准化事项, 基本目录) holds the elements shared by every level ("五级十五同"):
they are edited only there and show at every level at once. An `Item` (实施清单事项) is a standard
item as implemented at an area and usually a `ServiceSite`, with the local elements only (address,
window, phone, hours, promised time limit, visits, handling mode). Departments are stationed
(进驻) at sites; the "应进必进" compliance report compares what is stationed with what must be.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from bianmin.regions.models import Area, ServiceSite, Window


class Department(models.Model):
    """A department or its local station (部门、站所): 民政, 司法所, 残联…

    `category` is the short kind used by the mandatory-stationing list (计生、民政、国土…), so that
    鼓东街道民政办 and 鼓西街道民政办 are both "民政"."""

    code = models.CharField(_("部门编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    short_name = models.CharField(_("简称"), max_length=30, blank=True)
    category = models.CharField(_("部门类别"), max_length=20, db_index=True,
                                help_text=_("如 民政、司法、残联；“应进必进”名单按类别核对"))
    area = models.ForeignKey(Area, verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="departments")
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    phone = models.CharField(_("联系电话"), max_length=50, blank=True)
    active = models.BooleanField(_("有效"), default=True)

    class Meta:
        verbose_name = _("部门")
        verbose_name_plural = _("部门")
        ordering = ["code"]

    def __str__(self):
        return self.name


class StandardItem(models.Model):
    """The shared elements of an item, the same at province, city, county, township and village."""

    class ItemType(models.TextChoices):
        LICENSE = "license", _("行政许可")
        PENALTY = "penalty", _("行政处罚")
        ENFORCEMENT = "enforcement", _("行政强制")
        LEVY = "levy", _("行政征收")
        BENEFIT = "benefit", _("行政给付")
        INSPECTION = "inspection", _("行政检查")
        CONFIRMATION = "confirmation", _("行政确认")
        REWARD = "reward", _("行政奖励")
        ADJUDICATION = "adjudication", _("行政裁决")
        OTHER_POWER = "other_power", _("其他行政权力")
        PUBLIC_SERVICE = "public_service", _("公共服务")
        FILING = "filing", _("行政备案")

    class Tier(models.TextChoices):
        MAIN = "main", _("主项")
        SUB = "sub", _("子项")
        HANDLING = "handling", _("办理项")

    class HandlingKind(models.TextChoices):
        NEW = "new", _("新设")
        CHANGE = "change", _("变更")
        RENEW = "renew", _("延续")
        CANCEL = "cancel", _("注销")

    # Levels at which the item may be implemented (五级).
    LEVELS = ("province", "city", "county", "township", "village")
    LEVEL_LABELS = {"province": "省", "city": "市", "county": "县", "township": "乡镇（街道）", "village": "村（社区）"}

    code = models.CharField(_("事项编码"), max_length=64, unique=True)
    name = models.CharField(_("事项名称"), max_length=200, db_index=True)
    aliases = models.TextField(_("别名"), blank=True, help_text=_("群众常用叫法，每行一个或以“、”分隔"))
    item_type = models.CharField(_("事项类型"), max_length=20, choices=ItemType.choices)
    tier = models.CharField(_("事项层级"), max_length=10, choices=Tier.choices, default=Tier.MAIN)
    parent = models.ForeignKey("self", verbose_name=_("上级事项"), null=True, blank=True, on_delete=models.PROTECT,
                               related_name="children")
    handling_kind = models.CharField(_("办理项类型"), max_length=10, choices=HandlingKind.choices, blank=True)
    competent_department = models.ForeignKey(Department, verbose_name=_("主管部门"), on_delete=models.PROTECT,
                                             related_name="standard_items")
    implementing_body = models.CharField(_("实施主体"), max_length=100,
                                         help_text=_("如 乡镇人民政府（街道办事处）；各地实施机构的信用代码见实施清单"))
    legal_basis = models.TextField(_("设定依据"), blank=True)
    service_object = models.CharField(_("服务对象"), max_length=100, blank=True, help_text=_("自然人、法人或两者"))
    acceptance_conditions = models.TextField(_("受理条件"), blank=True)
    flow = models.TextField(_("办理流程"), blank=True)
    special_steps = models.TextField(_("特别程序"), blank=True, help_text=_("听证、检验、专家评审等，及是否计入时限"))
    legal_limit_days = models.PositiveIntegerField(_("法定办结时限（工作日）"))
    fee = models.CharField(_("收费标准"), max_length=200, default="不收费")
    result_name = models.CharField(_("办理结果"), max_length=100, blank=True, help_text=_("证照或批文名称"))
    is_classified = models.BooleanField(_("涉密事项"), default=False)
    is_public_service = models.BooleanField(_("公共服务事项"), default=False)
    levels = models.CharField(_("实施层级"), max_length=60, default="township",
                              help_text=_("逗号分隔：province,city,county,township,village"))
    active = models.BooleanField(_("有效"), default=True)
    version = models.PositiveIntegerField(_("版本"), default=1)
    search_names = models.TextField(_("检索名称（分词）"), blank=True, editable=False)
    search_text = models.TextField(_("检索全文（分词）"), blank=True, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("标准化事项")
        verbose_name_plural = _("标准化事项")
        ordering = ["code"]

    def __str__(self):
        return f"{self.name}（{self.code}）"

    @property
    def alias_list(self) -> list[str]:
        return split_aliases(self.aliases)

    @property
    def level_list(self) -> list[str]:
        return [lv for lv in (s.strip() for s in self.levels.split(",")) if lv]

    def clean(self):
        errors = {}
        bad = [lv for lv in self.level_list if lv not in self.LEVELS]
        if bad or not self.level_list:
            errors["levels"] = _("实施层级应为 province、city、county、township、village 中的一个或多个")
        if self.tier == self.Tier.MAIN and self.parent_id:
            errors["parent"] = _("主项不能有上级事项")
        if self.tier != self.Tier.MAIN and not self.parent_id:
            errors["parent"] = _("子项和办理项必须指定上级事项")
        if self.parent_id and self.parent_id == self.pk:
            errors["parent"] = _("上级事项不能是本事项")
        if self.parent_id and self.parent is not None:
            expected = {self.Tier.SUB: {self.Tier.MAIN}, self.Tier.HANDLING: {self.Tier.MAIN, self.Tier.SUB}}
            if self.tier in expected and self.parent.tier not in expected[self.tier]:
                errors["parent"] = _("层级关系应为 主项 → 子项 → 办理项")
        if self.tier == self.Tier.HANDLING and not self.handling_kind:
            errors["handling_kind"] = _("办理项须注明 新设/变更/延续/注销")
        if self.tier != self.Tier.HANDLING and self.handling_kind:
            errors["handling_kind"] = _("只有办理项才有 新设/变更/延续/注销")
        if errors:
            raise ValidationError(errors)


def split_aliases(text: str) -> list[str]:
    out: list[str] = []
    for chunk in text.replace("、", "\n").replace(",", "\n").replace("，", "\n").replace(";", "\n").splitlines():
        chunk = chunk.strip()
        if chunk and chunk not in out:
            out.append(chunk)
    return out


class Material(models.Model):
    """A material required by a standard item, with its trust level (国办函〔2016〕108号)."""

    class TrustLevel(models.TextChoices):
        A = "A", _("A 本机关核发，直接使用")
        B = "B", _("B 窗口核验")
        C = "C", _("C 申请人上传，核验原件")
        D = "D", _("D 申请人自制，承诺属实")

    standard_item = models.ForeignKey(StandardItem, verbose_name=_("标准化事项"), on_delete=models.CASCADE,
                                      related_name="materials")
    name = models.CharField(_("材料名称"), max_length=200)
    trust_level = models.CharField(_("信任等级"), max_length=1, choices=TrustLevel.choices, default=TrustLevel.C)
    required = models.BooleanField(_("必要"), default=True)
    original_copies = models.PositiveSmallIntegerField(_("原件份数"), default=1)
    copies = models.PositiveSmallIntegerField(_("复印件份数"), default=0)
    source = models.CharField(_("来源渠道"), max_length=100, blank=True, help_text=_("申请人自备 / 政府部门核发"))
    notes = models.CharField(_("备注"), max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("申请材料")
        verbose_name_plural = _("申请材料")
        ordering = ["standard_item", "position", "id"]

    def __str__(self):
        return self.name


class Item(models.Model):
    """A standard item as implemented at an area and (usually) a service site: only local elements.

    `stationed` says the item is handled at this site's windows (进驻); an item implemented by a
    township but handled elsewhere is listed with stationed=False and shows as a compliance gap."""

    class PromiseKind(models.TextChoices):
        IMMEDIATE = "immediate", _("即办件")
        PROMISED = "promised", _("承诺件")

    class Mode(models.TextChoices):
        ON_THE_SPOT = "on_the_spot", _("当场办理")
        AUTHORIZED = "authorized", _("授权办理")
        DELEGATED = "delegated", _("直接下放")
        TRANSFER = "transfer", _("业务转办")

    standard_item = models.ForeignKey(StandardItem, verbose_name=_("标准化事项"), on_delete=models.PROTECT,
                                      related_name="items")
    area = models.ForeignKey(Area, verbose_name=_("实施区划"), on_delete=models.PROTECT, related_name="catalog_items")
    site = models.ForeignKey(ServiceSite, verbose_name=_("服务场所"), null=True, blank=True, on_delete=models.PROTECT,
                             related_name="catalog_items")
    implementing_body_name = models.CharField(_("实施机构"), max_length=100, blank=True)
    implementing_body_credit_code = models.CharField(_("实施机构统一社会信用代码"), max_length=18, blank=True)
    implementation_code = models.CharField(_("实施编码"), max_length=120, unique=True, editable=False,
                                           help_text=_("事项编码 + 区划代码 + 实施机构统一社会信用代码"))
    # local elements
    address = models.CharField(_("办理地点"), max_length=200, blank=True)
    window = models.ForeignKey(Window, verbose_name=_("窗口"), null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="catalog_items")
    phone = models.CharField(_("咨询电话"), max_length=50, blank=True)
    complaint_phone = models.CharField(_("监督投诉电话"), max_length=50, blank=True)
    hours = models.CharField(_("办理时间"), max_length=200, blank=True)
    promised_limit_days = models.PositiveIntegerField(_("承诺办结时限（工作日）"))
    visits_needed = models.PositiveSmallIntegerField(_("到现场次数"), default=1)
    notes = models.TextField(_("备注"), blank=True)
    # handling modes
    promise_kind = models.CharField(_("办件类型"), max_length=10, choices=PromiseKind.choices, default=PromiseKind.PROMISED)
    mode = models.CharField(_("办理方式"), max_length=15, choices=Mode.choices, default=Mode.ON_THE_SPOT)
    authorized_by = models.ForeignKey(Department, verbose_name=_("授权部门"), null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="authorized_items")
    transfer_to_site = models.ForeignKey(ServiceSite, verbose_name=_("转办至"), null=True, blank=True,
                                         on_delete=models.PROTECT, related_name="transferred_items")
    local_elements = models.JSONField(_("本地化要素"), default=dict, blank=True,
                                      help_text=_("本市未列入共享要素的指南要素的本地取值"))
    stationed = models.BooleanField(_("已进驻"), default=True)
    active = models.BooleanField(_("有效"), default=True)
    published_version = models.PositiveIntegerField(_("已发布版本"), default=0)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("实施清单事项")
        verbose_name_plural = _("实施清单事项")
        ordering = ["area__code", "standard_item__code"]
        constraints = [
            models.UniqueConstraint(fields=["standard_item", "site"], condition=Q(site__isnull=False),
                                    name="uniq_item_per_site"),
            models.UniqueConstraint(fields=["standard_item", "area"], condition=Q(site__isnull=True),
                                    name="uniq_item_per_area_without_site"),
        ]

    def __str__(self):
        where = self.site.name if self.site_id else self.area.name
        return f"{self.standard_item.name}（{where}）"

    @property
    def legal_limit_days(self) -> int:
        return self.standard_item.legal_limit_days

    @property
    def code(self) -> str:
        return self.standard_item.code

    @property
    def name(self) -> str:
        return self.standard_item.name

    def make_implementation_code(self) -> str:
        return f"{self.standard_item.code}{self.area.code}{self.implementing_body_credit_code or ''}"

    def clean(self):
        errors = {}
        if self.standard_item_id and self.promised_limit_days is not None:
            legal = self.standard_item.legal_limit_days
            if self.promised_limit_days > legal:
                errors["promised_limit_days"] = _("承诺办结时限（%(p)s个工作日）不能超过法定时限（%(l)s个工作日）") % {
                    "p": self.promised_limit_days, "l": legal}
        if self.promise_kind == self.PromiseKind.IMMEDIATE and self.promised_limit_days not in (None, 0):
            errors.setdefault("promised_limit_days", _("即办件的承诺时限应为0个工作日（当场办结）"))
        if self.site_id and self.area_id and self.site.area_id != self.area_id:
            errors["site"] = _("服务场所不在实施区划内")
        if self.window_id and self.window.site_id != self.site_id:
            errors["window"] = _("窗口不属于该服务场所")
        if self.mode == self.Mode.AUTHORIZED and not self.authorized_by_id:
            errors["authorized_by"] = _("授权办理须注明授权部门")
        if self.mode != self.Mode.AUTHORIZED and self.authorized_by_id:
            errors["authorized_by"] = _("只有授权办理才有授权部门")
        if self.mode == self.Mode.TRANSFER:
            if not self.transfer_to_site_id:
                errors["transfer_to_site"] = _("业务转办须注明转办至哪个上级场所")
            elif self.area_id:
                target = self.transfer_to_site
                is_parent_site = self.site_id is not None and self.site.parent_site_id == target.pk
                is_higher_area = target.area_id != self.area_id and self.area.path.startswith(target.area.path)
                if not (is_parent_site or is_higher_area):
                    errors["transfer_to_site"] = _("业务转办只能转至上级服务场所")
        elif self.transfer_to_site_id:
            errors["transfer_to_site"] = _("只有业务转办才有转办场所")
        if errors:
            raise ValidationError(errors)


class ItemMapping(models.Model):
    """An item's code in an outside system (事项映射关系), so that cases, evaluations and appeals from
    that system land on the right item. One external code maps to exactly one item per system."""

    class System(models.TextChoices):
        PROVINCIAL_HALL = "provincial_hall", _("省网上办事大厅")
        CONSTRUCTION = "construction", _("工程建设项目审批管理系统")
        HOTLINE_12345 = "hotline_12345", _("12345 热线分类")

    system = models.CharField(_("外部系统"), max_length=20, choices=System.choices)
    external_code = models.CharField(_("外部编码"), max_length=100)
    standard_item = models.ForeignKey(StandardItem, verbose_name=_("标准化事项"), null=True, blank=True,
                                      on_delete=models.CASCADE, related_name="mappings")
    item = models.ForeignKey(Item, verbose_name=_("实施清单事项"), null=True, blank=True, on_delete=models.CASCADE,
                             related_name="mappings")
    external_name = models.CharField(_("外部名称"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("事项映射")
        verbose_name_plural = _("事项映射")
        ordering = ["system", "external_code"]
        constraints = [
            models.UniqueConstraint(fields=["system", "external_code"], name="uniq_mapping_code_per_system"),
            models.CheckConstraint(
                condition=(Q(item__isnull=False, standard_item__isnull=True) | Q(item__isnull=True, standard_item__isnull=False)),
                name="mapping_targets_one"),
        ]

    def __str__(self):
        return f"{self.get_system_display()} {self.external_code}"


class UnmappedCode(models.Model):
    """An outside code that matched no mapping: reported for someone to map, never guessed."""

    system = models.CharField(_("外部系统"), max_length=20, choices=ItemMapping.System.choices)
    external_code = models.CharField(_("外部编码"), max_length=100)
    external_name = models.CharField(_("外部名称"), max_length=200, blank=True)
    seen_count = models.PositiveIntegerField(_("出现次数"), default=1)
    first_seen = models.DateTimeField(_("首次出现"), auto_now_add=True)
    last_seen = models.DateTimeField(_("最近出现"), auto_now=True)
    resolved = models.BooleanField(_("已处理"), default=False)

    class Meta:
        verbose_name = _("未映射外部编码")
        verbose_name_plural = _("未映射外部编码")
        ordering = ["-last_seen"]
        constraints = [models.UniqueConstraint(fields=["system", "external_code"], name="uniq_unmapped_code")]


class Stationing(models.Model):
    """A department present at a site (进驻): its window, staff and since when. Items stationed are
    the site's `Item`s of that department's standard items with stationed=True."""

    department = models.ForeignKey(Department, verbose_name=_("部门"), on_delete=models.PROTECT, related_name="stationings")
    site = models.ForeignKey(ServiceSite, verbose_name=_("服务场所"), on_delete=models.CASCADE, related_name="stationings")
    window = models.ForeignKey(Window, verbose_name=_("窗口"), null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="stationings")
    staff_count = models.PositiveSmallIntegerField(_("进驻人数"), default=1)
    staff_names = models.CharField(_("进驻人员"), max_length=300, blank=True)
    since = models.DateField(_("进驻日期"), null=True, blank=True)
    keeps_separate_office = models.BooleanField(_("仍保留单独办事场所"), default=False,
                                                help_text=_("“应进必进”要求不再另设办事场所"))
    active = models.BooleanField(_("有效"), default=True)
    notes = models.CharField(_("备注"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("部门进驻")
        verbose_name_plural = _("部门进驻")
        ordering = ["site", "department"]
        constraints = [models.UniqueConstraint(fields=["department", "site"], name="uniq_stationing")]

    def __str__(self):
        return f"{self.department.name} 进驻 {self.site.name}"

    def clean(self):
        if self.window_id and self.site_id and self.window.site_id != self.site_id:
            raise ValidationError({"window": _("窗口不属于该服务场所")})


class GuideVersion(models.Model):
    """A published guide (办事指南) of an item: a snapshot of every element shown, who and when."""

    item = models.ForeignKey(Item, verbose_name=_("实施清单事项"), on_delete=models.CASCADE, related_name="guide_versions")
    number = models.PositiveIntegerField(_("版本号"))
    elements = models.JSONField(_("指南要素"))
    published_by = models.CharField(_("发布人"), max_length=150)
    published_at = models.DateTimeField(_("发布时间"), auto_now_add=True)
    note = models.CharField(_("说明"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("办事指南版本")
        verbose_name_plural = _("办事指南版本")
        ordering = ["item", "-number"]
        constraints = [models.UniqueConstraint(fields=["item", "number"], name="uniq_guide_version")]

    def __str__(self):
        return f"{self.item} v{self.number}"


class CatalogImport(models.Model):
    """An xlsx of standard items being imported in the background (any size: a web worker never
    parses it). The whole file is checked first and refused with every error by row and column;
    otherwise it is applied in one transaction. A refused or finished file is removed; the row
    keeps the counts and errors."""

    class Status(models.TextChoices):
        PENDING = "pending", _("排队中")
        VALIDATING = "validating", _("校验中")
        IMPORTING = "importing", _("导入中")
        DONE = "done", _("已完成")
        REFUSED = "refused", _("已拒绝（有错误）")
        FAILED = "failed", _("失败")

    file = models.FileField(_("文件"), upload_to="catalog/imports/", blank=True)
    filename = models.CharField(_("文件名"), max_length=200)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.PENDING)
    total = models.PositiveIntegerField(_("总行数"), default=0)
    processed = models.PositiveIntegerField(_("已处理"), default=0)
    created_count = models.PositiveIntegerField(_("新增"), default=0)
    updated_count = models.PositiveIntegerField(_("更新"), default=0)
    unchanged_count = models.PositiveIntegerField(_("未变"), default=0)
    errors = models.JSONField(_("错误"), default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("导入人"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("事项目录导入")
        verbose_name_plural = _("事项目录导入")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.filename}（{self.get_status_display()}）"

    @property
    def percent(self) -> int:
        return int(self.processed * 100 / self.total) if self.total else 0

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.REFUSED, self.Status.FAILED)
