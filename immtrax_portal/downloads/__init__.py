"""File downloads served as plain HTTP routes next to the sign-in routes (see auth/routes.py)."""
