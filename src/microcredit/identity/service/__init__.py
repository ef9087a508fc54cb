"""Use cases of the identity domain (services flush; the boundary commits).

The package splits along the domain's seams: `sessions`, `login`, `accounts`,
`smscodes`, `totp`, `oauth`, `roles`. Other domains import this package.
"""

from microcredit.identity.service import accounts, housekeeping, login, oauth, roles, sessions, smscodes, totp

__all__ = ["accounts", "housekeeping", "login", "oauth", "roles", "sessions", "smscodes", "totp"]
