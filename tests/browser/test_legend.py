"""A line chart's legend as a table (legend mode "table"): a row per series with its last, min,
max and mean over the range in the widget's format; a header sorts (largest first, again
smallest first; by mouse or by keyboard), a row's click shows its series alone (again: all),
shift-click shows or hides one; the rows follow the live feed."""

from __future__ import annotations

import time

import pytest
import requests
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from tests.browser.test_live_page import sign_in, wait_until
from tests.browser.test_looks import AXE
from tests.conftest import ADMIN_PASSWORD

pytestmark = pytest.mark.browser

GRAPH = "widget-load-graph"
TABLE = "#widget-load .legend-table"
# host: its points, a minute apart (in ms: the legend reads 3.0 ms)
SERIES = {"a": [1, 5, 3], "b": [10, 2, 4], "c": [7, 8, 6]}
ROWS = """
return Array.from(document.querySelectorAll(arguments[0] + ' tbody tr')).map(function (tr) {
  return [tr.querySelector('.legend-series').textContent].concat(
    Array.from(tr.querySelectorAll('td')).map(function (td) { return td.textContent; }));
});
"""
VISIBLE = """
var gd = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');
return gd && gd.data
  ? gd.data.map(function (t) { return t.visible === undefined ? true : t.visible; }) : null;
"""
RUN_AXE = """
var done = arguments[arguments.length - 1];
axe.run(document.querySelector(arguments[0]), {resultTypes: ["violations"]}).then(function (r) {
  done(r.violations
    .filter(function (v) { return v.impact === "serious" || v.impact === "critical"; })
    .map(function (v) { return [v.id, v.nodes.slice(0, 3).map(function (n) { return n.html; })]; })
  );
}).catch(function (e) { done([["axe-error", String(e)]]); });
"""
SAME_COLOUR = """
// whether row i's swatch has trace i's colour, as the chart draws it
var gd = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');
var full = gd && gd._fullData && gd._fullData[arguments[1]];
var tr = gd && gd.closest('.legend-host').querySelector("tr[data-trace='" + arguments[1] + "']");
if (!full || !full.line || !tr) { return false; }
var probe = document.createElement('span');
probe.style.color = full.line.color;
document.body.appendChild(probe);
var want = getComputedStyle(probe).color;
probe.remove();
return want === getComputedStyle(tr.querySelector('.legend-swatch')).backgroundColor;
"""
SORTED = """
return Array.from(document.querySelectorAll(arguments[0] + ' thead th')).map(function (th) {
  return th.getAttribute('aria-sort');
});
"""


def post_board(server, board_id: str) -> None:
    """The points of three hosts (a metric of the board's own), and a board of one line chart
    of them with a table legend."""
    now = int(time.time() * 1000)
    metrics = [
        {
            "name": f"legend.{board_id}",
            "labels": {"host": host},
            "points": [[now - (4 - i) * 60_000, v] for i, v in enumerate(values)],
        }
        for host, values in SERIES.items()
    ]
    assert server.ingest({"metrics": metrics}).status_code == 202
    session = requests.Session()
    session.post(
        server.url + "/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
    )
    board = {
        "id": board_id,
        "title": "Legend",
        "widgets": [
            {
                "id": "load",
                "kind": "line",
                "title": "Load",
                "series": [{"name": f"legend.{board_id}", "labels": {}}],
                "range": {"from": "now-15m", "to": "now"},
                "format": {"unit": "ms", "decimals": 1},
                "legend": {"mode": "table"},
                "layout": {"x": 0, "y": 0, "w": 8, "h": 5},
            }
        ],
    }
    csrf = {"X-CSRFToken": session.cookies.get("_csrf_token")}
    saved = session.post(server.url + "/api/v1/dashboards", json=board, headers=csrf)
    assert saved.ok, saved.text
    assert saved.json().get("widgets", [{}])[0].get("legend") == {"mode": "table"}, saved.text


def open_board(dash_br, server, board_id: str) -> None:
    """Sign in, open the board, and wait for its three rows and the live feed."""
    sign_in(dash_br, server)
    dash_br.wait_for_element("#live-state", timeout=20)
    dash_br.driver.get(server.url + f"/?dashboard={board_id}")
    dash_br.wait_for_element(f"#{GRAPH} .main-svg", timeout=20)
    wait_until(lambda: len(dash_br.driver.execute_script(ROWS, TABLE)) == 3, timeout=20)
    dash_br.wait_for_text_to_equal("#live-state", "Live", timeout=20)


def serious_in_card(dash_br) -> list:
    """axe-core's serious and critical findings in the legend board's card."""
    dash_br.driver.set_script_timeout(60)
    dash_br.driver.execute_script(AXE)
    return dash_br.driver.execute_async_script(RUN_AXE, "#widget-load")


def names(dash_br) -> list[str]:
    """The series names, top to bottom."""
    return [row[0] for row in dash_br.driver.execute_script(ROWS, TABLE)]


def row(dash_br, name: str):
    """The name button of a series' row."""
    for button in dash_br.find_elements(f"{TABLE} .legend-series"):
        if button.text == name:
            return button
    raise AssertionError(f"no row {name}")


@pytest.fixture
def board(dash_br, live_server, request):
    """The page of a legend board of the test's own, open in the browser."""
    board_id = request.node.name.removeprefix("test_")[:40]
    post_board(live_server, board_id)
    open_board(dash_br, live_server, board_id)
    dash_br.board_id = board_id
    return dash_br


def test_the_table_reads_last_min_max_and_mean_in_the_widget_format(board):
    """a: last 3, min 1, max 5, mean 3; b: 4, 2, 10, 5.3; c: 6, 6, 8, 7; in the widget's unit
    (ms) with one decimal; the chart shows no legend of its own; axe finds nothing serious in
    the card, in either theme."""
    assert board.driver.execute_script(ROWS, TABLE) == [
        ["a", "3.0 ms", "1.0 ms", "5.0 ms", "3.0 ms"],
        ["b", "4.0 ms", "2.0 ms", "10.0 ms", "5.3 ms"],
        ["c", "6.0 ms", "6.0 ms", "8.0 ms", "7.0 ms"],
    ]
    assert (
        board.driver.execute_script(
            f"return document.querySelector('#{GRAPH} .js-plotly-plot')._fullLayout.showlegend"
        )
        is False
    )
    assert board.find_elements(f"#{GRAPH} .legend") == []
    board.driver.set_window_size(1280, 900)
    assert serious_in_card(board) == []
    board.driver.execute_script("document.documentElement.setAttribute('data-theme', 'dark')")
    assert serious_in_card(board) == []
    assert board.get_logs() == []


def test_a_header_click_sorts_largest_first_then_smallest(board):
    """Max: b (10), c (8), a (5), marked descending; again: a, c, b, ascending."""
    board.find_element(f"{TABLE} button[data-sort='max']").click()
    wait_until(lambda: names(board) == ["b", "c", "a"])
    assert board.driver.execute_script(SORTED, TABLE) == [
        "none",
        "none",
        "none",
        "descending",
        "none",
    ]
    board.find_element(f"{TABLE} button[data-sort='max']").click()
    wait_until(lambda: names(board) == ["a", "c", "b"])
    assert board.driver.execute_script(SORTED, TABLE)[3] == "ascending"


def test_tab_to_a_header_and_enter_sorts(board):
    """From the Max header, Tab reaches Mean; Enter sorts by mean: c (7), b (5.3), a (3)."""
    board.driver.execute_script(
        "document.querySelector(arguments[0] + \" button[data-sort='max']\").focus();", TABLE
    )
    ActionChains(board.driver).send_keys(Keys.TAB).perform()
    focused = board.driver.execute_script(
        "return document.activeElement.getAttribute('data-sort');"
    )
    assert focused == "mean"
    ActionChains(board.driver).send_keys(Keys.ENTER).perform()
    wait_until(lambda: names(board) == ["c", "b", "a"])
    assert board.driver.execute_script(SORTED, TABLE)[4] == "descending"


def test_a_row_click_isolates_its_series_and_shift_click_toggles(board):
    """b alone (a and c legend-only, their rows dimmed); again: all; shift-click on a hides a
    alone; the rows' order does not change which trace a click picks, once sorted."""
    wait_until(lambda: board.driver.execute_script(VISIBLE, GRAPH) == [True, True, True])
    row(board, "b").click()
    wait_until(
        lambda: board.driver.execute_script(VISIBLE, GRAPH) == ["legendonly", True, "legendonly"]
    )
    off = board.driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0] + ' tr.legend-off'))"
        ".map(function (tr) { return tr.querySelector('.legend-series').textContent; });",
        TABLE,
    )
    assert off == ["a", "c"]
    row(board, "b").click()
    wait_until(lambda: board.driver.execute_script(VISIBLE, GRAPH) == [True, True, True])
    ActionChains(board.driver).key_down(Keys.SHIFT).click(row(board, "a")).key_up(
        Keys.SHIFT
    ).perform()
    wait_until(lambda: board.driver.execute_script(VISIBLE, GRAPH) == ["legendonly", True, True])
    board.find_element(f"{TABLE} button[data-sort='max']").click()  # b, c, a
    wait_until(lambda: names(board) == ["b", "c", "a"])
    row(board, "c").click()
    wait_until(
        lambda: board.driver.execute_script(VISIBLE, GRAPH) == ["legendonly", "legendonly", True]
    )


def test_rows_follow_the_live_feed(board, live_server):
    """A new point of a (20) moves its Last and Max; a fourth host's first point adds its row
    (its numbers from what the chart draws), in the colour the chart gives it; the server's
    rows keep their swatches' colours. The page writes those numbers in the widget's unit as
    the server does."""
    now = int(time.time() * 1000)
    metric = f"legend.{board.board_id}"
    sent = live_server.ingest(
        {
            "metrics": [
                {"name": metric, "labels": {"host": "a"}, "points": [[now, 20]]},
                {"name": metric, "labels": {"host": "d"}, "points": [[now, 2]]},
            ]
        }
    )
    assert sent.status_code == 202
    wait_until(
        lambda: (
            ["a", "20.0 ms", "1.0 ms", "20.0 ms", "3.0 ms"]
            in board.driver.execute_script(ROWS, TABLE)
        ),
        timeout=15,
    )
    wait_until(
        lambda: (
            ["d", "2.0 ms", "2.0 ms", "2.0 ms", "2.0 ms"]
            in board.driver.execute_script(ROWS, TABLE)
        ),
        timeout=15,
    )
    for i in range(4):
        wait_until(lambda i=i: board.driver.execute_script(SAME_COLOUR, GRAPH, i))
