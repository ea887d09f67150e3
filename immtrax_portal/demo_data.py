"""Placeholder replaced below."""
def load_demo_world() -> bool:
    return False
