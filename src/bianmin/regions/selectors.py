from django.db.models import QuerySet

from bianmin.core.errors import NotFound

from .models import Area


def normalize_area_code(code: str) -> str:
    """Accept 6-, 9- or 12-digit codes (350102, 350102001, 350102001000) and return 12 digits."""
    code = (code or "").strip()
    if not code.isdigit() or len(code) not in (6, 9, 12):
        raise NotFound(f"区划代码“{code}”不存在", field="code")
    return code.ljust(12, "0")


def area_get(*, code: str) -> Area:
    area = Area.objects.select_related("parent").filter(code=normalize_area_code(code)).first()
    if area is None:
        raise NotFound(f"区划代码“{code}”不存在", field="code")
    return area


def area_children(*, area: Area) -> QuerySet[Area]:
    return Area.objects.filter(parent=area).order_by("code")
