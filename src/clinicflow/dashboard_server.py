"""Run the Streamlit server with clinicflow's heavy modules already imported.

Streamlit imports a page's modules on the first session's first run, which made the first page of a
fresh server wait ~2 s for pandas, plotly, scipy and the domain model. Importing them here, before
Streamlit's own command line starts, moves that cost to server start-up.
"""

from __future__ import annotations

import socket
import sys

#: Headless Chromium on a closed network (tests and benchmarks): no background connections to fail.
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def free_port() -> int:
    """A free TCP port on localhost for a dashboard under test."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import plotly.graph_objects  # noqa: F401
    import scipy.stats  # noqa: F401
    from streamlit.web import cli

    import clinicflow.domain.capacity
    import clinicflow.viz.practice  # noqa: F401

    sys.argv = ["streamlit", *sys.argv[1:]]
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
