"""Reading the listing read model: who sees which rows (in SQL), filters, search and keyset pages.

`scope` is `domain.permissions.may_see` said in SQL, so a list never loads a project to ask it. A page
is read by keyset: the cursor names the last row's (sort key, id), and the next page starts after it
through the same index, so the last page costs what the first does. `offset` still works (SQL OFFSET)
for old clients; it costs the rows it skips.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from domain.actors import Actor, Role
from projections.sql import Database

MIN_TRIGRAM = 3  # shorter search text cannot use a trigram index: it is answered by a scan of the rows in scope


class BadCursor(ValueError):
    """A cursor this server did not write (or for another list)."""


def scope(actor: Actor, table: str) -> tuple[str, list[Any]]:
    """The rows of `table` (with `project_id` and `district`) whose project `actor` may see."""
    if actor.role == Role.ADMIN and actor.district is None:
        return "1 = 1", []
    if actor.role in (Role.ADMIN, Role.STATION):
        return (f"{table}.district = ?", [actor.district]) if actor.district is not None else ("1 = 0", [])
    if actor.role == Role.RESIDENT:
        return (f"{table}.project_id IN (SELECT m.project_id FROM lst_members m WHERE m.user_id = ?)",
                [str(actor.user_id)])
    return (f"{table}.project_id IN (SELECT a.project_id FROM lst_assignments a WHERE a.user_id = ? AND a.role = ?)",
            [str(actor.user_id), str(actor.role)])


def encode_cursor(list_name: str, key: Sequence[Any]) -> str:
    raw = json.dumps([list_name, *key], ensure_ascii=False, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(list_name: str, cursor: str, width: int) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise BadCursor(cursor) from error
    if not isinstance(values, list) or len(values) != width + 1 or values[0] != list_name:
        raise BadCursor(cursor)
    if not all(isinstance(v, str | int) and not isinstance(v, bool) for v in values[1:]):
        raise BadCursor(cursor)
    return values[1:]


def like_pattern(text: str) -> str:
    """`text` as a LIKE substring pattern, its own % _ \\ taken literally (ESCAPE '\\')."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search(db: Database, table: str, text: str) -> tuple[str, list[Any]]:
    """Rows of `table` whose search text holds `text`: FTS5 trigram on SQLite, pg_trgm's GIN index on PostgreSQL."""
    if db.is_postgres:
        return f"{table}.search_text ILIKE ? ESCAPE '\\'", [like_pattern(text)]
    if len(text) >= MIN_TRIGRAM:
        phrase = '"' + text.replace('"', '""') + '"'
        return f"{table}.doc_id IN (SELECT rowid FROM lst_text WHERE lst_text MATCH ?)", [phrase]
    # below a trigram no index helps: test the rows in scope (their index narrowed them) rather than all text
    return f"{table}.search_text LIKE ? ESCAPE '\\'", [like_pattern(text)]


@dataclass
class ListQuery:
    """One list's SELECT: its table, columns, sort key (then id columns) and the conditions added to it."""

    name: str
    table: str
    columns: str
    order: tuple[str, ...]  # the sort key first, then the row's identity: unique together
    where: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def when(self, condition: str, *params: Any) -> ListQuery:
        self.where.append(condition)
        self.params.extend(params)
        return self

    def equal(self, column: str, value: Any) -> ListQuery:
        return self if value is None else self.when(f"{self.table}.{column} = ?", value)

    def page(self, db: Database, limit: int, offset: int, cursor: str | None
             ) -> tuple[list[Any], int, str | None]:
        """The rows of one page, how many rows match in all, and the cursor after the page (None: last page)."""
        condition = " AND ".join(self.where) or "1 = 1"
        total = int(db.query(f"SELECT COUNT(*) FROM {self.table} WHERE {condition}", self.params)[0][0])
        columns = [f"{self.table}.{c}" for c in self.order]
        sql, params = f"SELECT {self.columns} FROM {self.table} WHERE {condition}", list(self.params)
        if cursor:
            after = decode_cursor(self.name, cursor, len(self.order))
            sql += f" AND ({', '.join(columns)}) > ({', '.join('?' for _ in columns)})"
            params.extend(after)
        sql += f" ORDER BY {', '.join(columns)} LIMIT ?"
        params.append(limit + 1)
        if offset and not cursor:
            sql += " OFFSET ?"
            params.append(offset)
        rows = db.query(sql, params)
        more = len(rows) > limit
        rows = rows[:limit]
        width = len(self.order)
        next_cursor = encode_cursor(self.name, list(rows[-1][-width:])) if more and rows else None
        return rows, total, next_cursor
