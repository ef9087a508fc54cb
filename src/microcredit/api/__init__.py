"""The HTTP API: app factory, dependencies, error mapping, router mounting."""
