"""Dropping or resizing a widget never overlaps another: the grid pushes neighbours down and
compacts upwards, as react-grid-layout's vertical compaction does."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.boards.models import default_dashboard, edit_widget, place_widget, validate_dashboard


def cells(dash: dict) -> dict[str, tuple[int, int, int, int]]:
    """Each widget's x, y, w, h."""
    return {w["id"]: tuple(w["layout"][k] for k in "xywh") for w in dash["widgets"]}


def overlapping(dash: dict) -> list[tuple[str, str]]:
    """The pairs of widgets sharing a cell."""
    items = list(cells(dash).items())
    out = []
    for i, (a, (ax, ay, aw, ah)) in enumerate(items):
        for b, (bx, by, bw, bh) in items[i + 1 :]:
            if ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah:
                out.append((a, b))
    return out


def test_a_drop_onto_a_widget_takes_its_place_and_pushes_it_below():
    """kpi-users dropped on kpi-revenue: it sits there, revenue moves below it, no overlap."""
    dash = default_dashboard()
    assert overlapping(dash) == []
    moved = place_widget(dash, "kpi-users", 3, 0, 3, 2)
    assert cells(moved)["kpi-users"] == (3, 0, 3, 2)
    assert cells(moved)["kpi-revenue"][1] == 2  # right below it
    assert overlapping(moved) == []
    assert validate_dashboard(moved)  # still a valid dashboard


def test_others_rise_into_the_space_left_and_a_move_down_holds():
    """The widget moved away leaves a gap that the ones below fill; moved down into free rows
    it stays there, and ``down`` onto a neighbour pushes the neighbour."""
    dash = default_dashboard()
    moved = place_widget(dash, "line-users", 0, 30, 6, 4)  # to the bottom
    assert cells(moved)["line-users"] == (0, 30, 6, 4)
    assert cells(moved)["line-requests"][1] == 2  # rose into the place line-users left
    down = edit_widget(dash, "kpi-users", "down")
    assert cells(down)["kpi-users"] == (0, 1, 3, 2)
    assert cells(down)["line-users"][1] == 3 and overlapping(down) == []
    wider = edit_widget(dash, "kpi-users", "wider")
    assert overlapping(wider) == []


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([w["id"] for w in default_dashboard()["widgets"]]),
            st.integers(0, 11),
            st.integers(0, 12),
            st.integers(1, 12),
            st.integers(1, 6),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_no_sequence_of_drops_and_resizes_ever_overlaps(drops):
    """Any drops and resizes leave every widget on the grid and no two sharing a cell."""
    dash = default_dashboard()
    for wid, x, y, w, h in drops:
        dash = place_widget(dash, wid, x, y, w, h)
        assert overlapping(dash) == []
    for x, y, w, _h in cells(dash).values():
        assert 0 <= x and x + w <= 12 and y >= 0
