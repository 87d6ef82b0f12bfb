"""The overview's figures, kept while nothing they are read from has moved.

A district's overview reads thousands of rows (every item's state, every open defect, the period's flagged
entries); between two events nothing of it changes, yet every inspector's browser asks again (and the attention
list refreshes itself each minute). So a computed overview is kept under the log's head and the read models'
positions (any new event, applied or not, changes the key), the minute (the flagged period and the overdue
day move with the clock), and for at most `TTL_S` whatever happens.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from services.bootstrap import Container

TTL_S = 60.0
ENTRIES = 64  # districts and the city: a handful are busy at once
_kept: OrderedDict[tuple[Any, ...], tuple[float, Any]] = OrderedDict()
_lock = threading.Lock()


def state_of(container: Container, names: tuple[str, ...]) -> tuple[Any, ...]:
    head = int(container.ledger.recorder.max_notification_id() or 0)
    marks = ",".join("?" * len(names))
    positions = container.db.query(f"SELECT name, position FROM projection_tracking WHERE name IN ({marks}) "
                                   "ORDER BY name", names)
    return head, tuple(tuple(row) for row in positions), int(time.time() // 60)


def kept(key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
    now = time.monotonic()
    with _lock:
        found = _kept.get(key)
        if found is not None and now - found[0] < TTL_S:
            _kept.move_to_end(key)
            return found[1]
    value = compute()  # outside the lock: two first requests may both compute, neither waits on the other
    with _lock:
        _kept[key] = (now, value)
        while len(_kept) > ENTRIES:
            _kept.popitem(last=False)
    return value


def clear() -> None:
    """Forget everything (the benchmark measures a cold overview this way)."""
    with _lock:
        _kept.clear()
