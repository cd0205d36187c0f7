from django.apps import AppConfig


class PoliciesConfig(AppConfig):
    name = "bianmin.policies"
    label = "policies"
    verbose_name = "惠企政策"

    def ready(self):
        from bianmin.accounts.menu import register
        from bianmin.catalog.extensions import register_guide_section
        from bianmin.core import search
        from bianmin.core.capabilities import Cap
        from bianmin.exports.registry import register as register_export

        from .exports import policy_library_export
        from .selectors import related_guide_section
        from .vocabulary import SYNONYMS, WORDS

        register("惠企政策库", "policies:staff", Cap.POLICY_EDIT, group="惠企政策", order=60)
        register("即将到期的政策", "policies:staff-expiring", Cap.POLICY_EDIT, group="惠企政策", order=61)
        register("政策导入导出", "policies:staff-import", Cap.POLICY_EDIT, group="惠企政策", order=62)
        register("企业画像与订阅", "policies:staff-profiles", Cap.POLICY_EDIT, group="惠企政策", order=63)
        register("惠企政策查询（公众页面）", "policies:search", None, group="惠企政策", order=64)
        # The catalog's guide pages show the policies an item leads to without importing this
        # app: it asks the registry this fills (catalog/extensions.py).
        register_guide_section("policies", related_guide_section, order=10, namespaces=("policies",))
        register_export("policies.library", "惠企政策库", policy_library_export, capability=Cap.POLICY_EDIT)
        search.add_synonyms(SYNONYMS)
        search.add_words(WORDS)
