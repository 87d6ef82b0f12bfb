"""The dashboard's running totals per district, kept by delta so a city or district answer reads a few rows.

An item's rows (`ItemRows`, the same for the per-item tables and the totals) contribute to its district's totals;
when an item's rows are rewritten, its old contribution is taken off and the new one added, in the transaction
that rewrites them. A total row whose count reaches zero is deleted, so the tables always equal a GROUP BY over
the per-item rows (tests/integration/projections/test_dashboard_property.py checks it). Quantities are summed as
exact decimals, stored in one canonical text form (`exact`) so that a sum reached by any order of additions and
subtractions reads the same as a recomputation.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from domain.item_state import ItemState

ROLLUP_DDL = (
    "CREATE TABLE IF NOT EXISTS dash_roll_items (district TEXT NOT NULL, kind TEXT NOT NULL, state TEXT NOT NULL, "
    "items INTEGER NOT NULL, hold_points_passed INTEGER NOT NULL, hold_points_total INTEGER NOT NULL, "
    "stop_work INTEGER NOT NULL, PRIMARY KEY (district, kind, state))",
    "CREATE TABLE IF NOT EXISTS dash_roll_defects (district TEXT NOT NULL, severity TEXT NOT NULL, "
    "open INTEGER NOT NULL, PRIMARY KEY (district, severity))",
    # open defects by the day they are due: "overdue" is asked with a day, and sums the days before it
    "CREATE TABLE IF NOT EXISTS dash_roll_due (district TEXT NOT NULL, due_date TEXT NOT NULL, "
    "open INTEGER NOT NULL, PRIMARY KEY (district, due_date))",
    "CREATE TABLE IF NOT EXISTS dash_roll_rounds (district TEXT PRIMARY KEY, open INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS dash_roll_quantities (district TEXT NOT NULL, quantity TEXT NOT NULL, "
    "items INTEGER NOT NULL, amount TEXT NOT NULL, PRIMARY KEY (district, quantity))",
)
ROLLUP_TABLES = ("dash_roll_items", "dash_roll_defects", "dash_roll_due", "dash_roll_rounds", "dash_roll_quantities")


def exact(amount: Decimal) -> str:
    """One text per value (2.50 and 2.5 both read "2.5", 1E+2 reads "100"): sums compare as stored."""
    return format(amount.normalize(), "f")


@dataclass(frozen=True)
class ItemRows:
    """An item's rows in dash_items, dash_defects, dash_rounds and dash_quantities, less project and district."""

    kind: str
    state: str
    stop_work: int
    passed: int
    total: int
    last_activity: str
    defects: dict[str, tuple[str, str, str | None]]  # defect_id → severity, status, due date
    rounds: dict[int, tuple[str, int, int, int]]  # round_no → status, electorate, accepts, rejects
    quantities: dict[str, Decimal]

    @classmethod
    def of(cls, item: ItemState) -> ItemRows:
        rounds = {}
        for rnd in item.rounds:
            accepts = sum(1 for v in rnd["signatures"].values() if v == "accept")
            rounds[rnd["round_no"]] = (rnd["status"], len(rnd["electorate"]), accepts,
                                       len(rnd["signatures"]) - accepts)
        return cls(item.kind, item.state, int(item.stop_work is not None), len(item.passed_hold_points()),
                   len(item.hold_points), item.modified_on.isoformat(),
                   {d_id: (d["severity"], d["status"], d["due_date"]) for d_id, d in item.defects.items()},
                   rounds, dict(item.quantities))


@dataclass
class Deltas:
    """Changes to the totals, added up over a batch and written once at its end."""

    items: dict[tuple[str, str, str], list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0, 0]))
    defects: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    due: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    rounds: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    quantities: dict[tuple[str, str], list[Any]] = field(
        default_factory=lambda: defaultdict(lambda: [0, Decimal(0)]))

    def add(self, district: str, rows: ItemRows | None, sign: int) -> None:
        """Add (sign 1) or take off (sign -1) what an item's rows count in its district."""
        if rows is None:
            return
        totals = self.items[(district, rows.kind, rows.state)]
        for n, value in enumerate((1, rows.passed, rows.total, rows.stop_work)):
            totals[n] += sign * value
        for severity, status, due_date in rows.defects.values():
            if status != "closed":
                self.defects[(district, severity)] += sign
                if due_date is not None:
                    self.due[(district, due_date)] += sign
        self.rounds[district] += sign * sum(1 for r in rows.rounds.values() if r[0] == "open")
        for quantity, amount in rows.quantities.items():
            running = self.quantities[(district, quantity)]
            running[0] += sign
            running[1] += sign * amount

    def add_rows(self, rows: dict[str, list[Any]], sign: int) -> None:
        """Add (or take off) totals read from the per-item tables by `contribution`."""
        for district, kind, state, *sums in rows["items"]:
            totals = self.items[(district, kind, state)]
            for n, value in enumerate(sums):
                totals[n] += sign * int(value or 0)
        for district, severity, n in rows["defects"]:
            self.defects[(district, severity)] += sign * int(n)
        for district, due_date, n in rows["due"]:
            self.due[(district, due_date)] += sign * int(n)
        for district, n in rows["rounds"]:
            self.rounds[district] += sign * int(n)
        for district, quantity, amount in rows["quantities"]:
            running = self.quantities[(district, quantity)]
            running[0] += sign
            running[1] += sign * Decimal(amount)

    def write(self, tx: Any) -> None:
        """Add the deltas to the stored totals (sorted: concurrent writers lock rows in one order)."""
        items = [(*key, *v) for key, v in sorted(self.items.items()) if any(v)]
        if items:
            tx.executemany(
                "INSERT INTO dash_roll_items VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (district, kind, state) "
                "DO UPDATE SET items = dash_roll_items.items + excluded.items, "
                "hold_points_passed = dash_roll_items.hold_points_passed + excluded.hold_points_passed, "
                "hold_points_total = dash_roll_items.hold_points_total + excluded.hold_points_total, "
                "stop_work = dash_roll_items.stop_work + excluded.stop_work", items)
            tx.execute("DELETE FROM dash_roll_items WHERE items = 0")
        defects = [(*key, n) for key, n in sorted(self.defects.items()) if n]
        if defects:
            tx.executemany("INSERT INTO dash_roll_defects VALUES (?, ?, ?) ON CONFLICT (district, severity) "
                           "DO UPDATE SET open = dash_roll_defects.open + excluded.open", defects)
            tx.execute("DELETE FROM dash_roll_defects WHERE open = 0")
        due = [(*key, n) for key, n in sorted(self.due.items()) if n]
        if due:
            tx.executemany("INSERT INTO dash_roll_due VALUES (?, ?, ?) ON CONFLICT (district, due_date) "
                           "DO UPDATE SET open = dash_roll_due.open + excluded.open", due)
            tx.execute("DELETE FROM dash_roll_due WHERE open = 0")
        rounds = [(district, n) for district, n in sorted(self.rounds.items()) if n]
        if rounds:
            tx.executemany("INSERT INTO dash_roll_rounds VALUES (?, ?) ON CONFLICT (district) "
                           "DO UPDATE SET open = dash_roll_rounds.open + excluded.open", rounds)
            tx.execute("DELETE FROM dash_roll_rounds WHERE open = 0")
        for (district, quantity), (count, amount) in sorted(self.quantities.items()):
            if count or amount:
                self._add_quantity(tx, district, quantity, count, amount)

    @staticmethod
    def _add_quantity(tx: Any, district: str, quantity: str, count: int, amount: Decimal) -> None:
        """Decimal text cannot be added in SQL exactly on both stores: read, add, write (a handful per batch)."""
        row = tx.execute("SELECT items, amount FROM dash_roll_quantities WHERE district = ? AND quantity = ?",
                         (district, quantity)).fetchone()
        count, amount = (count + row[0], amount + Decimal(row[1])) if row else (count, amount)
        if count == 0:
            tx.execute("DELETE FROM dash_roll_quantities WHERE district = ? AND quantity = ?", (district, quantity))
        elif row:
            tx.execute("UPDATE dash_roll_quantities SET items = ?, amount = ? WHERE district = ? AND quantity = ?",
                       (count, exact(amount), district, quantity))
        else:
            tx.execute("INSERT INTO dash_roll_quantities VALUES (?, ?, ?, ?)",
                       (district, quantity, count, exact(amount)))


def contribution(tx: Any, project_id: str, other_than: str) -> dict[str, list[Any]]:
    """What a project's items count in districts other than `other_than`, from the per-item rows: the totals
    to move when the project's district becomes known after its items' (from Kafka)."""
    where, params = "project_id = ? AND district <> ?", (project_id, other_than)
    return {
        "items": tx.execute(f"SELECT district, kind, state, COUNT(*), SUM(hold_points_passed), "
                            f"SUM(hold_points_total), SUM(stop_work) FROM dash_items WHERE {where} "
                            "GROUP BY district, kind, state", params).fetchall(),
        "defects": tx.execute(f"SELECT district, severity, COUNT(*) FROM dash_defects WHERE {where} "
                              "AND status <> 'closed' GROUP BY district, severity", params).fetchall(),
        "due": tx.execute(f"SELECT district, due_date, COUNT(*) FROM dash_defects WHERE {where} "
                          "AND status <> 'closed' AND due_date IS NOT NULL GROUP BY district, due_date",
                          params).fetchall(),
        "rounds": tx.execute(f"SELECT district, COUNT(*) FROM dash_rounds WHERE {where} AND status = 'open' "
                             "GROUP BY district", params).fetchall(),
        "quantities": tx.execute(f"SELECT district, quantity, amount FROM dash_quantities WHERE {where}",
                                 params).fetchall(),
    }
