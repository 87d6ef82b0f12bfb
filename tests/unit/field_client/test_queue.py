"""The queue's state machine on a real SQLite file: queued → sent | refused | blocked, and back by the user."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from field_client.errors import FieldError
from field_client.queue import Command, Queue
from field_client.store import Store
from tests.unit.field_client.conftest import SUPERVISOR, fill, item_view

ME = SUPERVISOR["id"]
STOP_WORK = {"status": 409, "code": "stop_work_in_force", "title": "Stop-work order in force",
             "detail": "停工令生效期间不得通过施工检查点"}


def add(queue: Queue, item: dict[str, Any], n: int, user: str = ME) -> Command:
    body = {"hold_point": f"hp{n}", "result": "pass", "recorded_at": f"2026-04-12T09:{n:02d}:00+08:00"}
    return queue.add(f"cmd-{n:04d}-0000-4000-8000-000000000000", "inspect", item, user,
                     f"/api/v1/works-items/{item['id']}/inspections", body, f"#{n}")


@pytest.fixture
def queue(store: Store) -> Queue:
    return Queue(store)


A, B = item_view(), item_view()


def ids(commands: list[Command]) -> list[str]:
    return [c.id[4:8] for c in commands]


def test_a_round_holds_the_earliest_command_of_each_item_in_the_order_made(queue: Queue) -> None:
    for n, item in enumerate([A, A, B, A, B]):
        add(queue, item, n)
    assert ids(queue.next_round(ME)) == ["0000", "0002"]
    queue.mark_sent(queue.get("cmd-0000"), {"version": 2})
    assert ids(queue.next_round(ME)) == ["0001", "0002"]


def test_an_item_linked_to_another_waits_for_its_earlier_commands(queue: Queue) -> None:
    lift = item_view("elevator_installation", links={"pipe_relocation_cleared": A["id"]})
    add(queue, A, 0)
    add(queue, lift, 1)
    add(queue, B, 2)
    links = {lift["id"]: {A["id"]}}
    assert ids(queue.next_round(ME, links)) == ["0000", "0002"]
    queue.mark_sent(queue.get("cmd-0000"), {})
    assert ids(queue.next_round(ME, links)) == ["0001", "0002"]


def test_a_refusal_blocks_later_commands_on_its_item_only(queue: Queue) -> None:
    first, later, other = add(queue, A, 0), add(queue, A, 1), add(queue, B, 2)
    assert queue.mark_refused(first, STOP_WORK)
    assert ids(queue.next_round(ME)) == ["0002"]
    blocked = queue.get(later.id)
    assert blocked.state == "blocked" and blocked.blocked_by == first.id
    assert queue.get(first.id).problem == STOP_WORK
    assert queue.get(other.id).state == "queued"
    later_still = add(queue, A, 3)  # recorded after the refusal, before the user decided
    queue.next_round(ME)
    assert queue.get(later_still.id).blocked_by == first.id
    assert queue.counts() == {"queued": 1, "sent": 0, "refused": 1, "blocked": 2, "dropped": 0}


def test_retry_sends_the_refused_command_again_first_with_the_same_key(queue: Queue) -> None:
    first, later = add(queue, A, 0), add(queue, A, 1)
    queue.mark_refused(first, STOP_WORK)
    queue.next_round(ME)
    moved = queue.retry(first.id[:8])
    assert ids(moved) == ["0000", "0001"]
    assert [(c.id, c.state, c.problem) for c in queue.all()] == [(first.id, "queued", None), (later.id, "queued", None)]
    assert ids(queue.next_round(ME)) == ["0000"]


def test_drop_gives_up_the_refused_command_and_releases_what_it_held(queue: Queue) -> None:
    first, _ = add(queue, A, 0), add(queue, A, 1)
    queue.mark_refused(first, STOP_WORK)
    queue.next_round(ME)
    queue.drop(first.id)
    assert queue.get(first.id).state == "dropped"
    assert ids(queue.next_round(ME)) == ["0001"]
    assert not queue.mark_sent(queue.get(first.id), {}), "a dropped command is never sent"


def test_retrying_a_blocked_command_sends_it_regardless_of_the_refusal(queue: Queue) -> None:
    first, later = add(queue, A, 0), add(queue, A, 1)
    queue.mark_refused(first, STOP_WORK)
    queue.next_round(ME)
    queue.retry(later.id)
    assert ids(queue.next_round(ME)) == ["0001"]
    assert queue.get(first.id).state == "refused"


def test_transitions_only_from_the_states_allowed(queue: Queue) -> None:
    cmd = add(queue, A, 0)
    assert queue.mark_sent(cmd, {"version": 2})
    assert not queue.mark_sent(cmd, {"version": 3}) and not queue.mark_refused(cmd, STOP_WORK)
    assert queue.get(cmd.id).response == {"version": 2}
    for action in (queue.drop, queue.retry):
        with pytest.raises(FieldError) as caught:
            action(cmd.id)
        assert caught.value.code == "command_not_pending"
    with pytest.raises(FieldError) as missing:
        queue.get("nope")
    assert missing.value.code == "command_not_found"


def test_another_users_commands_wait_for_them(queue: Queue) -> None:
    add(queue, A, 0, user="someone-else")
    add(queue, A, 1)
    add(queue, B, 2)
    assert ids(queue.next_round(ME)) == ["0002"]


def test_every_transition_is_durable_across_a_reopen(tmp_path: Path) -> None:
    with Store(tmp_path / "h") as store:
        fill(store, [A, B])
        queue = Queue(store)
        first, _ = add(queue, A, 0), add(queue, A, 1)
        queue.mark_refused(first, STOP_WORK)
        queue.next_round(ME)
        device = store.device_id
    with Store(tmp_path / "h") as store:
        reopened = Queue(store)
        assert [(c.state, c.blocked_by) for c in reopened.all()] == [("refused", None), ("blocked", first.id)]
        assert store.device_id == device and store.item(A["id"][:8])["id"] == A["id"]
