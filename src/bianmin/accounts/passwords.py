"""Password rules (等保 level 3: length, complexity, no common or personal passwords).

Django 5.2 changed some validator messages and its zh_Hans catalogue has not caught up, so the
validators used in settings carry their Chinese messages here."""

import re

from django.contrib.auth import password_validation as pv
from django.core.exceptions import ValidationError


class CharacterClassValidator:
    """等保 password complexity: at least three of upper case, lower case, digits and symbols."""

    def validate(self, password, user=None):
        classes = sum(bool(re.search(p, password)) for p in (r"[A-Z]", r"[a-z]", r"\d", r"[^A-Za-z0-9]"))
        if classes < 3:
            raise ValidationError("密码须包含大写字母、小写字母、数字、符号中的至少三类", code="password_classes")

    def get_help_text(self):
        return "密码须包含大写字母、小写字母、数字、符号中的至少三类。"


class MinimumLengthValidator(pv.MinimumLengthValidator):
    def get_error_message(self):
        return f"密码过短：至少需要 {self.min_length} 个字符"

    def get_help_text(self):
        return f"密码至少 {self.min_length} 个字符。"


class CommonPasswordValidator(pv.CommonPasswordValidator):
    def get_error_message(self):
        return "密码过于常见，请换一个"

    def get_help_text(self):
        return "不能使用常见密码。"


class UserAttributeSimilarityValidator(pv.UserAttributeSimilarityValidator):
    DEFAULT_USER_ATTRIBUTES = ("username", "display_name", "mobile", "email")

    def get_error_message(self):
        return "密码与%(verbose_name)s过于相似"

    def get_help_text(self):
        return "密码不能与用户名、姓名、手机号码等个人信息相似。"


class PasswordHistoryValidator:
    """等保: a new password may not be one of the user's last five (the current one included)."""

    def validate(self, password, user=None):
        if user is None or not getattr(user, "pk", None):
            return
        from django.contrib.auth.hashers import check_password

        from .models import PasswordHistory

        current = [user.password] if user.password and user.has_usable_password() else []
        previous = list(PasswordHistory.objects.filter(user=user).values_list("password", flat=True)
                        [: PasswordHistory.KEEP - len(current)])
        if any(check_password(password, encoded) for encoded in current + previous):
            raise ValidationError(f"不能使用最近 {PasswordHistory.KEEP} 次用过的密码", code="password_reused")

    def get_help_text(self):
        return "不能使用最近 5 次用过的密码。"


class PublishedPasswordValidator:
    """The demo's password is printed by `bianmin up` and in the README: never a real one."""

    def validate(self, password, user=None):
        from .demo import DEMO_PASSWORD

        if password.strip().casefold() == DEMO_PASSWORD.casefold():
            raise ValidationError("不能使用公开的演示密码", code="password_published")

    def get_help_text(self):
        return "不能使用公开的演示密码。"
