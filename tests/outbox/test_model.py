"""The store against a plain-Python model: random puts, acks and failures.

A unit test of the synchronous store (it runs in the test's own thread, as it would in
the outbox's worker thread).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.outbox import PRIORITY, ClassBudget, MessageClass
from gateway.outbox.store import OutboxStore
from tests.examples import examples
from tests.outbox.messages import control, metric, number, ticket

BUDGETS = {
    MessageClass.METRIC: ClassBudget(max_messages=6),
    MessageClass.CONTROL: ClassBudget(max_messages=3),
}
FACTORIES = {
    MessageClass.TICKET: ticket,
    MessageClass.METRIC: metric,
    MessageClass.CONTROL: control,
}


@dataclass
class Model:
    waiting: list[tuple[int, MessageClass, int]] = field(default_factory=list)  # id, class, n
    dropped: dict[MessageClass, int] = field(default_factory=lambda: dict.fromkeys(PRIORITY, 0))

    def put(self, message_id: int, cls: MessageClass, n: int) -> None:
        self.waiting.append((message_id, cls, n))
        budget = BUDGETS.get(cls)
        of_class = [w for w in self.waiting if w[1] is cls]
        if budget is not None and budget.max_messages is not None:
            for oldest in of_class[: max(0, len(of_class) - budget.max_messages)]:
                self.waiting.remove(oldest)
                self.dropped[cls] += 1

    def pending(self) -> list[tuple[int, MessageClass, int]]:
        return sorted(self.waiting, key=lambda w: (PRIORITY.index(w[1]), w[0]))


operations = st.lists(
    st.one_of(
        st.tuples(st.just("put"), st.lists(st.sampled_from(PRIORITY), min_size=1, max_size=4)),
        st.tuples(st.just("ack"), st.integers(min_value=1, max_value=5)),
        st.tuples(st.just("fail"), st.integers(min_value=0, max_value=3)),
        st.tuples(st.just("reopen"), st.just(0)),
    ),
    max_size=30,
)


@settings(max_examples=examples(40), deadline=None)
@given(operations)
def test_the_store_behaves_like_its_model(ops: list[tuple[str, object]]) -> None:
    model = Model()
    failures: dict[int, int] = {}
    n = 0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "outbox.db"
        store = OutboxStore.open(path, budgets=BUDGETS)
        try:
            for op, arg in ops:
                if op == "put":
                    assert isinstance(arg, list)
                    batch = [FACTORIES[cls](n + i) for i, cls in enumerate(arg)]
                    ids = store.insert(batch)
                    assert ids == sorted(ids)
                    assert not model.waiting or ids[0] > max(w[0] for w in model.waiting)
                    for message_id, message in zip(ids, batch, strict=True):
                        model.put(message_id, message.message_class, number(message.payload))
                    n += len(batch)
                elif op == "ack":
                    assert isinstance(arg, int)
                    head = [w[0] for w in model.pending()[:arg]]
                    assert store.ack(head) == len(head)
                    model.waiting = [w for w in model.waiting if w[0] not in head]
                elif op == "fail" and model.waiting:
                    assert isinstance(arg, int)
                    target = model.pending()[min(arg, len(model.waiting) - 1)][0]
                    assert store.fail(target, f"refused {target}")
                    failures[target] = failures.get(target, 0) + 1
                elif op == "reopen":
                    store.close()
                    store = OutboxStore.open(path, budgets=BUDGETS)

                got = store.pending(1000)
                assert [(m.id, m.message_class, number(m.payload)) for m in got] == model.pending()
                assert all(m.attempts == failures.get(m.id, 0) for m in got)
                stats = store.stats()
                assert {c: d.messages for c, d in stats.dropped.items()} == model.dropped
                for cls in PRIORITY:
                    waiting = sum(1 for w in model.waiting if w[1] is cls)
                    assert stats.backlog[cls].messages == waiting
        finally:
            store.close()
