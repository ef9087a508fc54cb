"""Adapters to the outside world, each with a built-in simulator (clearly named as such)."""
