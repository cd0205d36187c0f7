def load_demo_sites():
    """Placeholder until the sites demo lands."""
