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
COUNT_CAP = 1000  # a page counts this many matching rows at most; past it `total` is a lower bound


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
    """Rows of `table` whose search text holds `text`: FTS5 trigram on SQLite, pg_trgm's GIN index on PostgreSQL.

    As a condition among others (the planner picks its index); `ListQuery.matching` instead walks the matches
    themselves in their index's order, which is what a list with a search does."""
    if db.is_postgres:
        return f"{table}.search_text {like_operator(db, text)} ? ESCAPE '\\'", [like_pattern(text)]
    if len(text) >= MIN_TRIGRAM:
        return f"{table}.doc_id IN (SELECT rowid FROM lst_text WHERE lst_text MATCH ?)", [fts_phrase(text)]
    # below a trigram no index helps: test the rows in scope (their index narrowed them) rather than all text
    return f"{table}.search_text LIKE ? ESCAPE '\\'", [like_pattern(text)]


def like_operator(db: Database, text: str) -> str:
    """The operator that finds `text` ignoring case as FTS5's trigram tokenizer does: SQLite's LIKE already
    ignores ASCII case; on PostgreSQL ILIKE, or LIKE when `text` has no letter with a case (Chinese, digits),
    where the two find the same rows and ILIKE costs 3-4 times as much (it lowers every row's text)."""
    return "ILIKE" if db.is_postgres and text.lower() != text.upper() else "LIKE"


def fts_phrase(text: str) -> str:
    """`text` as one FTS5 phrase: with the trigram tokenizer, a substring match of the whole text."""
    return '"' + text.replace('"', '""') + '"'


@dataclass(frozen=True)
class Found:
    """One page of rows; `total` is exact, or when `exact` is false a lower bound (the count stopped at the cap)."""

    rows: list[Any]
    total: int
    exact: bool
    next_cursor: str | None


@dataclass
class ListQuery:
    """One list's SELECT: its table, columns, sort key (then id columns) and the conditions added to it.

    The selected columns are followed by the sort key's, whose last row's values name the next page's cursor.
    `total` counts at most `cap` + 1 rows: counting every match of a broad search cost more than the
    page did (12,500 matches of a four-character term: 16-50 ms); past the cap the page says "at least"."""

    name: str
    table: str
    columns: str
    order: tuple[str, ...]  # the sort key first, then the row's identity: unique together
    where: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)
    source: str = ""  # the FROM clause when it is more than the table (a search walking its matches)
    key: tuple[str, ...] = ()  # the qualified sort key when it is not the table's `order`
    cap: int = field(default_factory=lambda: COUNT_CAP)

    def when(self, condition: str, *params: Any) -> ListQuery:
        self.where.append(condition)
        self.params.extend(params)
        return self

    def equal(self, column: str, value: Any) -> ListQuery:
        return self if value is None else self.when(f"{self.table}.{column} = ?", value)

    def matching(self, db: Database, text: str) -> ListQuery:
        """Only rows whose search text holds `text`.

        On SQLite, with a trigram or more, the page walks the FTS5 matches in their own order (rowid = the log
        position of the event that wrote the text: registration order) and looks each row up, so a page costs
        its rows however many match, and a count stops at the cap; the cursor names that position. Shorter
        text and PostgreSQL keep the list's order with the search as one more condition."""
        if len(text) < MIN_TRIGRAM and text.isalnum() and db.is_postgres:  # the list's order, by the grams' index
            return self.when(f"{self.table}.short_grams @> ARRAY[?]::text[]", text.lower())
        if db.is_postgres or (len(text) < MIN_TRIGRAM and not text.isalnum()):
            condition, params = search(db, self.table, text)
            return self.when(condition, *params)
        index = "lst_text" if len(text) >= MIN_TRIGRAM else "lst_short"  # one or two letters: their own tokens
        self.name, self.key = f"{self.name}:search", (f"{index}.rowid",)
        self.source = f"{index} JOIN {self.table} ON {self.table}.doc_id = {index}.rowid"
        return self.when(f"{index} MATCH ?", fts_phrase(text.lower()))

    def page(self, db: Database, limit: int, offset: int, cursor: str | None) -> Found:
        """The rows of one page, how many rows match (see `Found`) and the cursor after the page (None: last)."""
        condition, source = " AND ".join(self.where) or "1 = 1", self.source or self.table
        key = list(self.key or (f"{self.table}.{c}" for c in self.order))
        sql, params = f"SELECT {self.columns}, {', '.join(key)} FROM {source} WHERE {condition}", list(self.params)
        if cursor:
            after = decode_cursor(self.name, cursor, len(key))
            sql += f" AND ({', '.join(key)}) > ({', '.join('?' for _ in key)})"
            params.extend(after)
        sql += f" ORDER BY {', '.join(key)} LIMIT ?"
        params.append(limit + 1)
        if offset and not cursor:
            sql += " OFFSET ?"
            params.append(offset)
        rows = db.query(sql, params)
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = encode_cursor(self.name, list(rows[-1][-len(key):])) if more and rows else None
        seen = (0 if cursor or not rows else offset) + len(rows)  # rows that surely exist up to this page's end
        if not cursor and not more and (rows or not offset):
            return Found(rows, seen, True, None)  # the page reached the end: every match is counted
        counted = int(db.query(f"SELECT COUNT(*) FROM (SELECT 1 FROM {source} WHERE {condition} LIMIT ?) AS capped",
                               [*self.params, self.cap + 1])[0][0])
        if counted <= self.cap:
            return Found(rows, counted, True, next_cursor)
        return Found(rows, max(self.cap + 1, seen + int(more)), False, next_cursor)
