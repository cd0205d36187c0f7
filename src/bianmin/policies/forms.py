"""Forms of the policy pages: they parse and check what a person typed and turn it into the
services' input (PolicyData, ProfileData). The rules themselves stay in the services."""

from __future__ import annotations

from django import forms

from bianmin.catalog.models import Department, StandardItem
from bianmin.core.principal import Principal
from bianmin.regions.models import Area

from . import industries, selectors
from .models import Category, Policy, Size, Subscription
from .services import PolicyData, ProfileData
from .xlsx import split_list

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TEXT = forms.Textarea(attrs={"rows": 4})


class DepartmentField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name}（{obj.area.name}）"


class DepartmentsField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name}（{obj.area.name}）"


class AreasField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        depth = {"city": 0, "district": 1, "township": 2}.get(obj.level, 3)
        return f"{'　' * depth}{obj.name}"


def _areas_for_choice():
    return Area.objects.filter(level__in=[Area.Level.CITY, Area.Level.DISTRICT, Area.Level.TOWNSHIP]).order_by("path")


class PolicyForm(forms.Form):
    title = forms.CharField(label="政策名称", max_length=200)
    aliases = forms.CharField(label="俗称", required=False, widget=forms.Textarea(attrs={"rows": 2}),
                              help_text="企业常用叫法，以“、”分隔，如 稳岗返还、稳岗补贴")
    category = forms.ChoiceField(label="政策类别", choices=Category.choices)
    lead_department = DepartmentField(label="牵头部门", queryset=Department.objects.none())
    co_departments = DepartmentsField(label="协办部门", required=False, queryset=Department.objects.none(),
                                      widget=forms.SelectMultiple(attrs={"size": 6}))
    handling_office = forms.CharField(label="承办科室", max_length=100)
    handling_phone = forms.CharField(label="承办科室电话", max_length=60)
    valid_from = forms.DateField(label="执行期限起", widget=DATE)
    valid_until = forms.DateField(label="执行期限止", required=False, widget=DATE, help_text="留空为长期有效")
    benefits = forms.CharField(label="优惠内容", widget=TEXT)
    conditions = forms.CharField(label="申请条件", widget=TEXT)
    materials = forms.CharField(label="申报材料", widget=TEXT)
    procedure = forms.CharField(label="办理流程", widget=TEXT)
    document_number = forms.CharField(label="发文字号", max_length=100, required=False)
    issuing_body = forms.CharField(label="发文机关", max_length=200, required=False)
    source_url = forms.URLField(label="原文链接", max_length=500, required=False, assume_scheme="https")
    industries = forms.MultipleChoiceField(label="适用行业（GB/T 4754-2017）", required=False, choices=(),
                                           widget=forms.SelectMultiple(attrs={"size": 8}),
                                           help_text="选门类即含其全部大类；不选为不限行业")
    sizes = forms.MultipleChoiceField(label="适用企业规模", required=False, choices=Size.choices,
                                      widget=forms.CheckboxSelectMultiple, help_text="不选为不限")
    areas = AreasField(label="适用区域", required=False, queryset=Area.objects.none(),
                       widget=forms.SelectMultiple(attrs={"size": 6}), help_text="不选为牵头部门所在区划全域")
    tags = forms.CharField(label="标签", required=False, max_length=500, help_text="以“、”分隔")
    required_tags = forms.CharField(label="资质要求（具备其一）", required=False, max_length=500,
                                    help_text="如 高新技术企业、专精特新中小企业；以“、”分隔，不填为不限")
    min_age_years = forms.IntegerField(label="成立至少（年）", required=False, min_value=0, max_value=100)
    max_age_years = forms.IntegerField(label="成立不超过（年）", required=False, min_value=0, max_value=100)
    no_application = forms.BooleanField(label="免申即享（符合条件的企业无需申请）", required=False)
    items = forms.CharField(label="申办事项编码", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
                            help_text="申请本政策时要办理的事项的事项编码，以“、”分隔")

    def __init__(self, *args, principal: Principal, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead_department"].queryset = selectors.departments_for(principal=principal)
        self.fields["co_departments"].queryset = Department.objects.filter(active=True).select_related("area").order_by(
            "area__code", "code")
        self.fields["industries"].choices = industries.choices()
        self.fields["areas"].queryset = _areas_for_choice()

    @classmethod
    def initial_of(cls, policy: Policy) -> dict:
        return {
            **{f: getattr(policy, f) for f in ("title", "aliases", "category", "handling_office", "handling_phone",
                                                "valid_from", "valid_until", "benefits", "conditions", "materials",
                                                "procedure", "document_number", "issuing_body", "source_url",
                                                "industries", "sizes", "min_age_years", "max_age_years",
                                                "no_application")},
            "lead_department": policy.lead_department_id,
            "co_departments": [d.pk for d in policy.co_departments.all()],
            "areas": [a.pk for a in policy.areas.all()],
            "tags": "、".join(policy.tags), "required_tags": "、".join(policy.required_tags),
            "items": "、".join(si.code for si in policy.items.all()),
        }

    def clean_items(self):
        codes = split_list(self.cleaned_data.get("items") or "")
        found = {si.code: si for si in StandardItem.objects.filter(code__in=codes, active=True)}
        missing = [c for c in codes if c not in found]
        if missing:
            raise forms.ValidationError(f"事项编码不存在：{'、'.join(missing)}")
        return [found[c] for c in codes]

    def data_for_service(self) -> PolicyData:
        d = self.cleaned_data
        return PolicyData(
            title=d["title"], aliases="、".join(split_list(d.get("aliases") or "")), category=d["category"],
            lead_department=d["lead_department"], co_departments=list(d.get("co_departments") or []),
            handling_office=d["handling_office"], handling_phone=d["handling_phone"], valid_from=d["valid_from"],
            valid_until=d.get("valid_until"), benefits=d["benefits"], conditions=d["conditions"],
            materials=d["materials"], procedure=d["procedure"], document_number=d.get("document_number") or "",
            issuing_body=d.get("issuing_body") or "", source_url=d.get("source_url") or "",
            industries=list(d.get("industries") or []), sizes=list(d.get("sizes") or []),
            areas=list(d.get("areas") or []), tags=split_list(d.get("tags") or ""),
            required_tags=split_list(d.get("required_tags") or ""), min_age_years=d.get("min_age_years"),
            max_age_years=d.get("max_age_years"), no_application=bool(d.get("no_application")), items=d["items"])


class ProfileForm(forms.Form):
    """An enterprise's profile for matching (public: nothing is saved) and saving."""

    credit_code = forms.CharField(label="统一社会信用代码", max_length=30, required=False)
    name = forms.CharField(label="企业名称", max_length=200, required=False)
    industry = forms.ChoiceField(label="所属行业", required=False, choices=())
    size = forms.ChoiceField(label="企业规模", required=False, choices=[("", "请选择")] + list(Size.choices))
    area = forms.ModelChoiceField(label="注册地", required=False, queryset=Area.objects.none(), empty_label="请选择",
                                  to_field_name="code")
    founded_on = forms.DateField(label="成立日期", required=False, widget=DATE)
    tags = forms.CharField(label="资质与标签", required=False, max_length=300,
                           help_text="如 高新技术企业、专精特新中小企业、科技型中小企业，以“、”分隔")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["industry"].choices = [("", "请选择")] + [
            (d.code, f"{d.code} {d.name}（{industries.get(d.section).name}）") for d in industries.divisions()]
        self.fields["area"].queryset = Area.objects.filter(
            level__in=[Area.Level.DISTRICT, Area.Level.TOWNSHIP]).order_by("path")

    def profile_data(self) -> ProfileData:
        d = self.cleaned_data
        return ProfileData(credit_code=d.get("credit_code") or "", name=d.get("name") or "",
                           industry=d.get("industry") or "", size=d.get("size") or "", area=d.get("area"),
                           founded_on=d.get("founded_on"), tags=split_list(d.get("tags") or ""))


class SubscribeForm(ProfileForm):
    channel = forms.ChoiceField(label="通知方式", choices=Subscription.Channel.choices)
    contact = forms.CharField(label="手机号码或邮箱", max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("credit_code", "name", "area"):
            self.fields[name].required = True
        self.fields["credit_code"].error_messages["required"] = "请填写统一社会信用代码"
        self.fields["name"].error_messages["required"] = "请填写企业名称"
        self.fields["area"].error_messages["required"] = "请选择企业注册地"
        self.fields["contact"].error_messages["required"] = "请填写接收通知的手机号码或邮箱"
