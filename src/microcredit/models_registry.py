"""Every domain's tables in one metadata, for Alembic and the commands that walk all tables.

The one module that imports every domain's `models`; nothing below the
entry points imports it (the database layer knows only `Base`).
"""

from sqlalchemy import MetaData

from microcredit.audit import models as audit_models
from microcredit.cob import models as cob_models
from microcredit.collections import models as collections_models
from microcredit.consent import models as consent_models
from microcredit.contracts import models as contracts_models
from microcredit.db.base import Base
from microcredit.documents import models as documents_models
from microcredit.identity import models as identity_models
from microcredit.integrations import models as integrations_models
from microcredit.ledger import models as ledger_models
from microcredit.notifications import models as notifications_models
from microcredit.origination import models as origination_models
from microcredit.parties import models as parties_models
from microcredit.platform import models as platform_models
from microcredit.products import models as products_models
from microcredit.risk import models as risk_models
from microcredit.risk.fraud import models as risk_fraud_models
from microcredit.risk.registry import models as risk_registry_models
from microcredit.risk.warnings import models as warnings_models
from microcredit.servicing import models as servicing_models

MODELS = (audit_models, collections_models, consent_models, contracts_models, documents_models, identity_models,
          integrations_models, ledger_models, notifications_models, origination_models, parties_models,
          platform_models, products_models, risk_models, servicing_models, cob_models, risk_registry_models,
          risk_fraud_models, warnings_models)


def load_all_models() -> MetaData:
    """The metadata of every table (the imports above registered them with `Base`)."""
    return Base.metadata
