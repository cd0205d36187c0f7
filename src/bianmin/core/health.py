from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse

from bianmin import __version__


def healthz(request):
    """Liveness and readiness: the database answers and every migration is applied."""
    database_ok = True
    migrations_ok = False
    pending: list[str] = []
    try:
        connection = connections[DEFAULT_DB_ALIAS]
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        pending = [f"{m.app_label}.{m.name}" for m, _ in plan]
        migrations_ok = not pending
    except Exception:  # any failure to reach the database is the answer itself
        database_ok = False
    ok = database_ok and migrations_ok
    return JsonResponse(
        {"status": "ok" if ok else "error", "database": database_ok, "migrations_applied": migrations_ok,
         "pending_migrations": pending, "version": __version__},
        status=200 if ok else 503,
        json_dumps_params={"ensure_ascii": False},
    )
