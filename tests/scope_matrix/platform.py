"""Routes of the project itself: home pages, health, API documents, the Django admin."""

from scope_matrix import Admin, Public, Staff

ROUTES = [
    Public("public-home"),
    Public("healthz"),
    Staff("staff-home"),
    Public("api:openapi-json"),
    Public("api:openapi-view"),
    Public("api:version"),
    Public("api:api-root", ok=(200, 404)),
    Admin("admin/"),
]
