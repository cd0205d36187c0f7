"""The full-text index of public policy versions (FTS5 on SQLite, tsvector + GIN on PostgreSQL):
segmented words and filter tokens; see bianmin.core.search and policies/indexing.py."""

from django.db import migrations

from bianmin.core.search import FtsIndex


class Migration(migrations.Migration):
    dependencies = [("policies", "0001_initial")]

    operations = [FtsIndex("policies_search").migration_operation()]
