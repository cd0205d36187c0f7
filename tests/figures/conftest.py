from core.conftest import fresh_calendar, work_calendar  # noqa: F401  (the calendar the generator needs)
from evaluations.conftest import (  # noqa: F401  (the same sites, items, clerks and case factory)
    calendar,
    clerks,
    completed_case,
    device_key,
    django_db_setup,
    items,
    sites,
    system_key,
)
