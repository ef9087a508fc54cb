"""Use cases of the contracts domain (services flush; the boundary commits).

`templates` (versioned contract templates: drafts, publication, preview), `terms` (what a contract
states, from the lending engine) and `contracts` (a contract made on demand, read, signed by the
borrower and the institution, downloaded).
"""

from microcredit.contracts.service import contracts, templates, terms
from microcredit.contracts.service.contracts import Files

__all__ = ["Files", "contracts", "templates", "terms"]
