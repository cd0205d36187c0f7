from django import template

register = template.Library()


@register.filter
def percent(value, digits: int = 1) -> str:
    """0.98765 → "98.8%"; None → "—" (no data is not 0%)."""
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:.{int(digits)}f}%"
