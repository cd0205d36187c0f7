"""Demo data for the demo city's service network, loaded through the services."""

from __future__ import annotations

from pathlib import Path

DEMO_SITE_FILE = Path(__file__).resolve().parent / "data" / "350100-sites.csv"


def load_demo_sites():
    """Load the demo sites file (centers, stations, kiosk sites and windows). Idempotent.
    Needs the areas (load_areas) loaded first."""
    from .services import read_site_file, sites_load

    info = read_site_file(DEMO_SITE_FILE)
    return sites_load(rows=info.rows)
