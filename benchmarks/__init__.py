"""Reproducible measurements; `make bench` runs them all. Each prints one JSON line and a table."""
