from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class Area(models.Model):
    """An administrative area with its official 12-digit statistical division code.

    `path` is the chain of codes from the top area down to this one ("350100000000/350102000000/"),
    so "this area and everything below it" is one indexed prefix query: the scope rule uses it."""

    class Level(models.TextChoices):
        CITY = "city", _("市")
        DISTRICT = "district", _("县（市）区")
        TOWNSHIP = "township", _("乡镇（街道）")
        VILLAGE = "village", _("村（社区）")

    code = models.CharField(_("区划代码"), max_length=12, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    level = models.CharField(_("层级"), max_length=10, choices=Level.choices, db_index=True)
    parent = models.ForeignKey("self", verbose_name=_("上级"), null=True, blank=True, on_delete=models.PROTECT,
                               related_name="children")
    path = models.CharField(_("路径"), max_length=255, unique=True, editable=False)
    is_functional_zone = models.BooleanField(_("功能区"), default=False, help_text=_("如高新区：非行政区划，代码为本地编码"))
    urban_rural_code = models.CharField(_("城乡分类代码"), max_length=3, blank=True)
    # A functional zone (高新区) is not in the statistical tree: its townships stay under their
    # county (闽侯县) and the zone "administers" them (托管). Kept as a relation, not as parentage,
    # so the official codes and paths never change.
    administers = models.ManyToManyField("self", verbose_name=_("托管区划"), symmetrical=False, blank=True,
                                         related_name="administered_by", help_text=_("功能区托管的乡镇（街道）"))

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["code"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.path = (self.parent.path if self.parent_id else "") + self.code + "/"
        super().save(*args, **kwargs)

    def is_within(self, other: "Area") -> bool:
        return self.path.startswith(other.path)


class ServiceSite(models.Model):
    """A place where citizens are served: a 便民服务中心, a village/community station, or the
    location of a self-service kiosk."""

    class Kind(models.TextChoices):
        CENTER = "center", _("便民服务中心")
        STATION = "station", _("便民服务站（代办点）")
        KIOSK = "kiosk", _("自助服务终端点")

    class Venue(models.TextChoices):
        HALL = "hall", _("政务大厅")
        COMMUNITY = "community", _("村居（社区）")
        BUS_STATION = "bus_station", _("汽车站")
        TRAIN_STATION = "train_station", _("火车站")
        CONVENIENCE_STORE = "convenience_store", _("便利店")
        PHARMACY = "pharmacy", _("药店")
        OTHER = "other", _("其他")

    code = models.CharField(_("场所编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=150)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices, db_index=True)
    venue = models.CharField(_("场地类型"), max_length=20, choices=Venue.choices, default=Venue.HALL)
    area = models.ForeignKey(Area, verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="sites")
    parent_site = models.ForeignKey("self", verbose_name=_("上级场所"), null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="child_sites", help_text=_("站点的上级便民服务中心，用于业务转办"))
    address = models.CharField(_("地址"), max_length=200, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    phone = models.CharField(_("咨询电话"), max_length=50, blank=True)
    complaint_phone = models.CharField(_("监督投诉电话"), max_length=50, blank=True)
    email = models.EmailField(_("电子邮箱"), blank=True)
    hours = models.CharField(_("办公时间"), max_length=200, blank=True)
    active = models.BooleanField(_("运行中"), default=True)

    class Meta:
        verbose_name = _("服务场所")
        verbose_name_plural = _("服务场所")
        ordering = ["code"]
        indexes = [models.Index(fields=["lat", "lng"])]

    def __str__(self):
        return self.name

    def clean(self):
        if (self.lng is None) != (self.lat is None):
            raise ValidationError({"lng": _("经度和纬度应同时填写")})
        if self.lng is not None and not (-180 <= self.lng <= 180 and -90 <= self.lat <= 90):
            raise ValidationError({"lng": _("经纬度超出范围（经度 -180~180，纬度 -90~90）")})
        if self.parent_site_id is not None:
            parent = self.parent_site
            if parent.pk is not None and parent.pk == self.pk:
                raise ValidationError({"parent_site": _("上级场所不能是自身")})
            if parent.kind != self.Kind.CENTER:
                raise ValidationError({"parent_site": _("上级场所应为便民服务中心")})
            if self.area_id is not None and not self.area.is_within(parent.area):
                raise ValidationError({"parent_site": _("站点所属区划应在上级便民服务中心的区划之内")})

    @property
    def has_location(self) -> bool:
        return self.lng is not None and self.lat is not None


class Window(models.Model):
    site = models.ForeignKey(ServiceSite, verbose_name=_("服务场所"), on_delete=models.CASCADE, related_name="windows")
    number = models.CharField(_("窗口号"), max_length=10)
    name = models.CharField(_("窗口名称"), max_length=100)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("窗口")
        verbose_name_plural = _("窗口")
        ordering = ["site", "number"]
        constraints = [models.UniqueConstraint(fields=["site", "number"], name="uniq_window_number")]

    def __str__(self):
        return f"{self.site.name} {self.number}号窗口 {self.name}"
