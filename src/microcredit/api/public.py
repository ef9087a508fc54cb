"""What the web app needs before anyone signs in: the institution, sign-in providers, password rules."""

from __future__ import annotations

from fastapi import APIRouter

from microcredit.api.deps import DB, Config, InstitutionId, public
from microcredit.identity.schemas import InstitutionBrief, OAuthProviderRead, PublicConfig
from microcredit.parties import service as parties
from microcredit.platform.routing import UnitOfWorkRoute

router = APIRouter(tags=["public"], route_class=UnitOfWorkRoute)


@router.get("/public/config", response_model=PublicConfig, operation_id="get_public_config",
            summary="What the web app needs before sign-in", dependencies=[public()])
def get_public_config(session: DB, settings: Config, institution: InstitutionId) -> PublicConfig:
    """Institution, sign-in providers, whether the SMS simulator's message box is on, password rules."""
    inst = parties.organisation.institution(session=session, institution_id=institution)
    sec = settings.security
    return PublicConfig(
        institution=InstitutionBrief(id=inst.id, code=inst.code, name=inst.name, name_en=inst.name_en,
                                     business_date=inst.business_date, timezone=inst.timezone),
        mode=settings.mode.value,
        oauth_providers=[OAuthProviderRead(name=p.name, display_name=p.display_name, simulator=p.simulator)
                         for p in settings.oauth_providers],
        sms_simulator=settings.sms_simulator, password_min_length=sec.password_min_length,
        password_max_length=sec.password_max_length, lockout_threshold=sec.lockout_threshold)
