"""Use cases of the contracts domain (services flush; the boundary commits).

`templates` (versioned contract templates: drafts, publication, preview), `terms` (what a contract
states, from the lending engine) and `contracts` (a contract made on demand, read, signed by the
borrower and the institution, downloaded), `archive` (the renewal of signed contracts' archive time
stamps).
"""

from microcredit.contracts.service import archive, contracts, templates, terms
from microcredit.contracts.service.contracts import Files

__all__ = ["Files", "archive", "contracts", "templates", "terms"]
