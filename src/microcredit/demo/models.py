"""The demo's trained challenger: a scorecard fitted by the real training code, scoring in the shadow.

`microcredit risk synth`'s machinery draws a small synthetic population (`ROWS` borrowers, a fixed
seed), `microcredit risk train`'s code cross-validates and fits a scorecard on it and writes its
artefact and validation report, and the registry's service registers it and makes it the
institution's challenger the way the API does: the demo's risk officer (孙伟) proposes, the
second risk officer (林峰) approves. A challenger never decides (`risk.service.modelling`): the
demo's applications get its score and decision stored beside theirs, so the models page has a
real comparison and drift, while the decisions stay the interim scorer's.

Training takes a few seconds (most of it loading the libraries), once per process: the artefact
and report are kept in memory for the next demo seeded by the same process (the tests seed one per
database).
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

from sqlalchemy.orm import Session

from microcredit.clock import Clock
from microcredit.platform.actor import Actor
from microcredit.risk.registry.service import lifecycle

MODEL_CODE = "demo_trained"
ROWS = 2000
SEED = 2026


@functools.cache
def trained() -> tuple[bytes, bytes]:
    """(artefact, report.json) of the demo's scorecard, trained on the synthetic population."""
    from microcredit.risk.learning import spec, synth
    from microcredit.risk.learning.train import train

    dataset = spec.prepare(synth.population(ROWS, seed=SEED), spec.ColumnSpec.from_json(synth.SPEC))
    with tempfile.TemporaryDirectory(prefix="mc-demo-model-") as folder:
        out = Path(folder)
        train(dataset, kind="scorecard", cv=2, seed=SEED, out=out, lang="zh-CN")
        return (out / "model.json").read_bytes(), (out / "report.json").read_bytes()


def seed_challenger(*, session: Session, clock: Clock, institution_id: int, maker_user_id: int,
                    checker_user_id: int) -> None:
    """Train, register and make the challenger (maker–checker); nothing when the model is already there."""
    if any(model.code == MODEL_CODE for model, _ in lifecycle.models(session=session, institution_id=institution_id)):
        return
    blob, report = trained()
    maker = Actor.system(institution_id).as_user(maker_user_id, "staff", institution_id)
    checker = Actor.system(institution_id).as_user(checker_user_id, "staff", institution_id)
    version = lifecycle.register(session=session, clock=clock, actor=maker, institution_id=institution_id,
                                 code=MODEL_CODE, blob=blob, report=report,
                                 note=f"演示：合成样本 {ROWS} 人训练的评分卡 / demo: scorecard trained on {ROWS} "
                                      f"synthetic borrowers")
    promotion = lifecycle.propose(session=session, clock=clock, actor=maker, institution_id=institution_id,
                                  code=MODEL_CODE, number=version.number, target="challenger",
                                  reason="演示：影子运行对比 / demo: compare in the shadow")
    lifecycle.approve(session=session, clock=clock, actor=checker, institution_id=institution_id,
                      promotion_id=promotion.id, reason="验证报告已复核 / validation report reviewed")
