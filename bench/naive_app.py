"""``python -m bench.naive_app PORT``: the Dash pattern most tutorials teach, as a baseline.

A ``dcc.Interval`` of one second whose callback rebuilds the whole figure (an hour of points at
1 s) with plotly.graph_objects, served on gevent like the real node.
"""

from gevent import monkey

monkey.patch_all()

import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import plotly.graph_objects as go  # noqa: E402
from dash import Dash, Input, Output, dcc, html  # noqa: E402
from gevent.pywsgi import WSGIServer  # noqa: E402

app = Dash(__name__)
app.layout = html.Div([dcc.Graph(id="g"), dcc.Interval(id="tick", interval=1000)])


@app.callback(Output("g", "figure"), Input("tick", "n_intervals"))
def rebuild(_n: int | None) -> go.Figure:
    """The whole figure again: the last hour of a series, a point a second."""
    now = time.time()
    x = np.arange(now - 3600, now) * 1000
    y = np.sin(x / 6e5) * 100 + 1000
    fig = go.Figure(go.Scatter(x=x, y=y, mode="lines"))
    fig.update_layout(xaxis={"type": "date"}, margin={"l": 40, "r": 10, "t": 10, "b": 30})
    return fig


if __name__ == "__main__":
    WSGIServer(("127.0.0.1", int(sys.argv[1])), app.server, log=None).serve_forever()
