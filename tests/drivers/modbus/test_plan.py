"""Request planning: merging, limits, gaps, and decoding answers back to points."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.modbus import (
    InvalidPointError,
    ModbusProtocolError,
    Point,
    Table,
    define_point,
    plan_reads,
)


def regs(name: str, address: int, data_type: str = "uint16") -> Point:
    return define_point(name, "holding", address, data_type)


def test_adjacent_points_share_one_request() -> None:
    points = [regs("a", 0), regs("b", 1, "int32"), regs("c", 3, "float32"), regs("d", 5)]
    plan = plan_reads(points)
    assert [(r.table, r.address, r.count) for r in plan.requests] == [(Table.HOLDING, 0, 6)]
    block = [1, 0xFFFF, 0xFFFE, 0x3FC0, 0x0000, 9]
    assert plan.requests[0].decode(block) == {"a": 1, "b": -2, "c": 1.5, "d": 9}


def test_tables_are_never_mixed_and_come_in_a_stable_order() -> None:
    points = [
        define_point("in", "input", 0),
        regs("hold", 1),
        define_point("coil", "coil", 0),
        define_point("di", "discrete_input", 1),
    ]
    plan = plan_reads(points)
    assert [(r.table, r.address, r.count) for r in plan.requests] == [
        (Table.COIL, 0, 1),
        (Table.DISCRETE_INPUT, 1, 1),
        (Table.HOLDING, 1, 1),
        (Table.INPUT, 0, 1),
    ]


def test_gap_decides_whether_near_points_merge() -> None:
    points = [regs("a", 0), regs("b", 3)]
    assert len(plan_reads(points).requests) == 2
    merged = plan_reads(points, max_gap=2)
    assert [(r.address, r.count) for r in merged.requests] == [(0, 4)]
    assert merged.requests[0].decode([5, 0, 0, 6]) == {"a": 5, "b": 6}
    assert len(plan_reads(points, max_gap=1).requests) == 2


def test_overlapping_points_read_the_same_register_once() -> None:
    points = [regs("word", 10), define_point("flags", "holding", 10, "bitfield", bits={2: "fault"})]
    plan = plan_reads(points)
    assert [(r.address, r.count) for r in plan.requests] == [(10, 1)]
    values = plan.requests[0].decode([4])
    assert values["word"] == 4
    assert values["flags"].flags == {"fault": True}  # type: ignore[union-attr]


def test_register_limit_splits_without_cutting_a_point() -> None:
    points = [regs(f"r{i}", i) for i in range(124)] + [regs("wide", 124, "uint32")]
    plan = plan_reads(points)
    assert [(r.address, r.count) for r in plan.requests] == [(0, 124), (124, 2)]
    assert [(r.address, r.count) for r in plan_reads(points[:10], max_registers=4).requests] == [
        (0, 4),
        (4, 4),
        (8, 2),
    ]


def test_bit_limit_is_2000() -> None:
    points = [define_point(f"c{i}", "coil", i) for i in range(2001)]
    plan = plan_reads(points)
    assert [(r.address, r.count) for r in plan.requests] == [(0, 2000), (2000, 1)]


def test_short_answer_is_a_protocol_error_and_padded_bits_are_fine() -> None:
    plan = plan_reads([regs("a", 0), regs("b", 1)])
    with pytest.raises(ModbusProtocolError, match="holds only 1 values"):
        plan.requests[0].decode([1])
    coils = plan_reads([define_point("c0", "coil", 0), define_point("c2", "coil", 2)], max_gap=1)
    padded = [True, False, False, False, False, False, False, False]  # answers come in bytes
    assert coils.requests[0].decode(padded) == {"c0": True, "c2": False}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_registers": 126}, "outside 1..125"),
        ({"max_bits": 0}, "outside 1..2000"),
        ({"max_gap": -1}, "negative"),
    ],
)
def test_bad_limits_are_rejected(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(InvalidPointError, match=message):
        plan_reads([regs("a", 0)], **kwargs)


def test_duplicate_names_are_rejected() -> None:
    with pytest.raises(InvalidPointError, match="'a' is defined twice"):
        plan_reads([regs("a", 0), regs("a", 5)])


point_specs = st.lists(
    st.tuples(
        st.sampled_from(["holding", "input", "coil"]),
        st.integers(0, 400),
        st.sampled_from(["uint16", "int32", "float32", "bitfield"]),
    ),
    max_size=60,
)


@given(specs=point_specs, max_gap=st.integers(0, 5), max_registers=st.integers(2, 125))
def test_every_point_lands_whole_in_exactly_one_request_within_limits(
    specs: list[tuple[str, int, str]], max_gap: int, max_registers: int
) -> None:
    points = [
        define_point(f"p{i}", table, address, None if table == "coil" else data_type)
        for i, (table, address, data_type) in enumerate(specs)
    ]
    plan = plan_reads(points, max_gap=max_gap, max_registers=max_registers, max_bits=50)
    assert sorted(p.name for p in plan.points) == sorted(p.name for p in points)
    previous_end: dict[Table, int] = {}
    for request in plan.requests:
        assert request.count <= (50 if request.table.is_bits else max_registers)
        assert request.address >= previous_end.get(request.table, 0)  # sorted, disjoint
        previous_end[request.table] = request.address + request.count
        for point in request.points:
            assert point.table is request.table
            assert request.address <= point.address
            assert point.end <= request.address + request.count
        # the request is as small as its points allow
        assert request.address == min(p.address for p in request.points)
        assert request.address + request.count == max(p.end for p in request.points)
    # no two consecutive requests of a table could have merged
    for a, b in zip(plan.requests, plan.requests[1:], strict=False):
        if a.table is b.table:
            limit = 50 if a.table.is_bits else max_registers
            gap = b.address - (a.address + a.count)
            first_of_b = min(p.end for p in b.points if p.address == b.address)
            assert gap > max_gap or first_of_b - a.address > limit
