"""Use cases of the identity domain (services flush; the boundary commits).

The package splits along the domain's seams: `sessions`, `login`, `accounts`,
`smscodes`, `totp`, `oauth`, `roles`; `kit` holds the typed parts they are
handed (`IdentityKit`). Other domains import this package.
"""

from microcredit.identity.service import (
    accounts,
    housekeeping,
    kit,
    login,
    oauth,
    principals,
    roles,
    sessions,
    smscodes,
    totp,
)
from microcredit.identity.service.kit import IdentityKit

__all__ = ["IdentityKit", "accounts", "housekeeping", "kit", "login", "oauth", "principals", "roles", "sessions",
           "smscodes", "totp"]
