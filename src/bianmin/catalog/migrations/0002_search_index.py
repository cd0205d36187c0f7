"""The full-text index of standard items (FTS5 on SQLite, tsvector + GIN on PostgreSQL);
see bianmin.core.search."""

from django.db import migrations

from bianmin.core.search import FtsIndex


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [FtsIndex("catalog_search").migration_operation()]
