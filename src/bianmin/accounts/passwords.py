import re

from django.core.exceptions import ValidationError


class CharacterClassValidator:
    """等保 password complexity: at least three of upper case, lower case, digits and symbols."""

    def validate(self, password, user=None):
        classes = sum(bool(re.search(p, password)) for p in (r"[A-Z]", r"[a-z]", r"\d", r"[^A-Za-z0-9]"))
        if classes < 3:
            raise ValidationError("密码须包含大写字母、小写字母、数字、符号中的至少三类", code="password_classes")

    def get_help_text(self):
        return "密码须包含大写字母、小写字母、数字、符号中的至少三类。"
