"""One-click fixes; importing this package registers them all (see base.py)."""
