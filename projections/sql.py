"""The SQL port read models and their drivers are written against; `services/db.py` implements it.

Projections sit below the services (an import-linter `layers` contract), so they cannot import the
application's gateway; they name only what they use of it: `?` placeholders, a transaction with
`execute`/`executemany`/`fetch*`, and one-shot `query`. Any object with that shape will do."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol


class Transaction(Protocol):
    """One unit of work: everything executed in it commits together or not at all."""

    def execute(self, statement: str, params: Sequence[Any] = ...) -> Any: ...

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None: ...

    def fetchall(self) -> list[Any]: ...

    def fetchone(self) -> Any: ...


class Database(Protocol):
    """`?` placeholders in every statement, whichever database is behind it."""

    @property
    def is_postgres(self) -> bool: ...

    def transaction(self) -> AbstractContextManager[Transaction]: ...

    def query(self, statement: str, params: Sequence[Any] = ...) -> list[Any]: ...

    def drop_tables(self, tx: Any, tables: Sequence[str]) -> None: ...

    def optimize(self, tables: Sequence[str] = ...) -> None: ...

    def rebuilding(self) -> AbstractContextManager[None]: ...
