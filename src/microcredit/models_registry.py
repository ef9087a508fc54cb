"""Imports every domain's tables, so that `Base.metadata` (and Alembic) sees them all."""

from microcredit.audit import models as audit_models
from microcredit.identity import models as identity_models
from microcredit.integrations import models as integrations_models
from microcredit.notifications import models as notifications_models
from microcredit.parties import models as parties_models
from microcredit.platform import models as platform_models

__all__ = [
    "audit_models",
    "identity_models",
    "integrations_models",
    "notifications_models",
    "parties_models",
    "platform_models",
]
