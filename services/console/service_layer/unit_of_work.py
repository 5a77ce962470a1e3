"""The console's unit of work: the backbone's, with its accounts, sessions and sign-in log,
its copy of the organisation, and the password hashing."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from libs.directory import FacilityDirectory
from libs.events.outbox import OutboxSignal
from libs.events.unit_of_work import UnitOfWork
from services.console.adapters.accounts import AccountBook, SessionBook, SignInLog
from services.console.adapters.passwords import PasswordHashing
from services.console.config import ConsoleConfig

__all__ = ["ConsoleUnitOfWork", "console_uow"]


class ConsoleUnitOfWork(UnitOfWork):
    def __init__(
        self,
        session_factory: Callable[[], Session],
        *,
        source: str,
        signal: OutboxSignal | None = None,
        passwords: PasswordHashing,
        config: ConsoleConfig | None = None,
    ) -> None:
        super().__init__(session_factory, source=source, signal=signal)
        self.passwords = passwords
        self._config = config

    @property
    def config(self) -> ConsoleConfig:
        if self._config is None:
            raise RuntimeError("this unit of work was made without the console's config")
        return self._config

    @property
    def accounts(self) -> AccountBook:
        return AccountBook(self.session)

    @property
    def sessions(self) -> SessionBook:
        return SessionBook(self.session)

    @property
    def sign_ins(self) -> SignInLog:
        return SignInLog(self.session)

    @property
    def facilities(self) -> FacilityDirectory:
        return FacilityDirectory(self.session)


def console_uow(uow: UnitOfWork) -> ConsoleUnitOfWork:
    """``uow`` as the console's; a plain one means the process was wired wrongly."""
    if not isinstance(uow, ConsoleUnitOfWork):
        raise TypeError("the console needs ConsoleUnitOfWork (see bootstrap.compose)")
    return uow
