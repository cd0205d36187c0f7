from django import template

register = template.Library()


@register.filter
def distance(metres) -> str:
    """850 → "850 米"; 1234 → "1.2 公里"."""
    try:
        m = int(metres)
    except (TypeError, ValueError):
        return ""
    return f"{m} 米" if m < 1000 else f"{m / 1000:.1f} 公里"
