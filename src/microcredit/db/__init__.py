"""Persistence: engine, unit of work, column types, migrations."""
