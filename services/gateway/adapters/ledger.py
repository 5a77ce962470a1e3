"""What the gateway has answered: submissions by message id, and the facts they published."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from services.gateway.adapters.schema import AcceptedFact, Submission

__all__ = ["SubmissionLedger"]


class SubmissionLedger:
    def __init__(self, session: Session) -> None:
        self._session = session

    def submission(self, system_id: str, message_id: str) -> Submission | None:
        return self._session.get(Submission, (system_id, message_id))

    def record_submission(
        self,
        system_id: str,
        message_id: str,
        *,
        body_digest: str,
        status: int,
        answer: dict[str, Any],
        at: datetime,
    ) -> None:
        self._session.add(
            Submission(
                system_id=system_id,
                message_id=message_id,
                body_digest=body_digest,
                status=status,
                answer=answer,
                received_at=at,
            )
        )

    def fact(self, fact: str) -> AcceptedFact | None:
        return self._session.get(AcceptedFact, fact)

    def record_fact(
        self, fact: str, *, event_id: str, content_digest: str, system_id: str, at: datetime
    ) -> None:
        self._session.add(
            AcceptedFact(
                fact=fact,
                event_id=event_id,
                content_digest=content_digest,
                system_id=system_id,
                accepted_at=at,
            )
        )
        self._session.flush()
