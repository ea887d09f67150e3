"""Repeated refusals are counted, not written one by one; a connection refused too often is dropped."""

from __future__ import annotations

from immtrax_portal.services.refusals import RefusalLedger


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def ledger(clock: Clock) -> RefusalLedger:
    return RefusalLedger(clock=clock, window=60, rows_per_connection=3, rows_per_address=5,
                         summary_every=4, drop_after=20)


SAME = ("organizations.search", None, "not signed in", "", "")


def test_the_first_refusals_of_a_kind_are_written_one_by_one_then_counted():
    clock = Clock()
    book = ledger(clock)
    verdicts = [book.note(connection="c1", address="10.0.0.1", same=SAME) for _ in range(11)]
    assert [v.write_row for v in verdicts] == [True] * 3 + [False] * 8
    summaries = [s for v in verdicts for s in v.summaries]
    assert [(s.scope, s.count) for s in summaries] == [("connection", 4), ("connection", 4)]


def test_different_refusals_are_each_written():
    book = ledger(Clock())
    verdicts = [book.note(connection="c1", address="a", same=(f"action{n}", None, "x", "", ""))
                for n in range(10)]
    assert all(v.write_row for v in verdicts)


def test_a_connection_refused_past_the_limit_is_dropped_and_its_unwritten_rest_counted():
    book = ledger(Clock())
    verdicts = [book.note(connection="c1", address="a", same=SAME) for _ in range(21)]
    assert [v.drop_connection for v in verdicts] == [False] * 20 + [True]
    written = sum(v.write_row for v in verdicts)
    summed = sum(s.count for v in verdicts for s in v.summaries)
    assert written + summed + book.drop("c1") == 21


def test_what_a_closing_connection_still_sends_is_neither_written_nor_counted_again():
    book = ledger(Clock())
    for _ in range(21):
        book.note(connection="c1", address="a", same=SAME)
    book.drop("c1")
    late = book.note(connection="c1", address="a", same=SAME)
    assert (late.write_row, late.summaries, late.drop_connection, late.closing) == (False, (), False, True)


def test_new_connections_from_one_address_are_held_back_by_the_address_limit():
    book = ledger(Clock())
    verdicts = [book.note(connection=f"c{n}", address="a", same=SAME) for n in range(8)]
    assert [v.write_row for v in verdicts] == [True] * 5 + [False] * 3


def test_a_new_window_writes_again_and_sums_up_what_the_last_one_held_back():
    clock = Clock()
    book = ledger(clock)
    for _ in range(5):
        book.note(connection="c1", address="a", same=SAME)
    clock.now = 61
    verdict = book.note(connection="c1", address="a", same=SAME)
    assert verdict.write_row
    assert [(s.scope, s.count) for s in verdict.summaries] == [("connection", 2)]
