"""One invocation at a time in a process, and a turn lent to the function a handler invokes."""

from __future__ import annotations

import threading

from warung_local.functions import InvocationTurn

JOIN_S = 10.0  # only a guard: a broken turn blocks the thread for ever


def test_a_thread_lent_the_turn_runs_while_its_holder_waits_and_gives_it_back() -> None:
    # given: this thread holds the turn, as a handler does while it invokes another function
    turn = InvocationTurn()
    seen: list[int | None] = []

    def borrower() -> None:
        with turn.lent(), turn:  # the invoked function's own entry, as LocalFunction makes it
            seen.append(turn.holder)

    with turn:
        holder = turn.holder

        # when: the thread answering the invocation borrows it
        thread = threading.Thread(target=borrower)
        thread.start()
        thread.join(JOIN_S)

        # then: it ran in the holder's turn, which is the holder's again afterwards
        assert not thread.is_alive()
        assert seen == [thread.ident]
        assert turn.holder == holder == threading.get_ident()
    assert turn.holder is None


def test_a_thread_not_lent_the_turn_waits_for_the_holder() -> None:
    # given: this thread holds the turn
    turn = InvocationTurn()
    order: list[str] = []

    def other() -> None:
        with turn:
            order.append("other ran")

    with turn:
        thread = threading.Thread(target=other)
        thread.start()
        order.append("holder done")

    # when: the holder's turn ends
    thread.join(JOIN_S)

    # then: only then did the other thread run
    assert not thread.is_alive()
    assert order == ["holder done", "other ran"]


def test_lending_a_turn_nobody_holds_is_an_ordinary_turn() -> None:
    turn = InvocationTurn()

    with turn.lent():
        inside = turn.holder

    assert inside == threading.get_ident()
    assert turn.holder is None
