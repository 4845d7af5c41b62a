"""Run the Streamlit server with clinicflow's heavy modules already imported, and without Nagle's delay.

Streamlit imports a page's modules on the first session's first run, which made the first page of a
fresh server wait ~2 s for pandas, plotly, scipy and the domain model. Importing them here, before
Streamlit's own command line starts, moves that cost to server start-up.

The first session also paid once for a REPL check (``skip_repl_check``) and for loading the default
scenario (``warm_app``). And the first page fetches ~120 static files over six keep-alive connections:
with Streamlit's listening socket as it binds it, each request after a connection's first waited
~40 ms for the browser's delayed ACK (``enable_tcp_nodelay``). docs/dashboard.md has the measurements.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

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


def start_dashboard(
    root: Path, timeout_s: float = 60, scenarios: tuple[str, ...] = ()
) -> tuple[subprocess.Popen, str, float]:
    """``clinicflow dashboard`` from checkout ``root`` on a free localhost port, once it answers.

    For the browser tests and the benchmarks: returns the server process, its URL and the seconds it
    took to come up. The server's output goes to a temporary file (a pipe nobody reads could fill up
    and stall the server); on no answer within ``timeout_s`` the server is stopped and
    ``RuntimeError`` carries the tail of that output. ``scenarios`` are passed on the command line
    (the practice's own files, listed first).
    """
    import os
    import tempfile
    import time
    import urllib.request

    port = free_port()
    env = dict(os.environ)
    env["PYTHONPATH"] = str(root / "src") + os.pathsep + env.get("PYTHONPATH", "")
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "clinicflow", "dashboard", *scenarios, "--port", str(port)],
        cwd=root,
        env=env,
        stdout=(log := tempfile.TemporaryFile()),  # noqa: SIM115 -- lives as long as the server
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    while time.perf_counter() - t0 < timeout_s:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc, url, time.perf_counter() - t0
        except OSError:
            time.sleep(0.1)
    proc.kill()
    proc.wait(15)
    log.seek(0)
    out = log.read().decode(errors="replace")[-2000:]
    raise RuntimeError(f"the dashboard did not come up in {timeout_s:.0f} s: {out}")


def stop_dashboard(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()


def _tcp_socket(sock: socket.socket) -> socket.socket:
    """The same listening socket, re-wrapped so Python reports it (and its connections) as TCP.

    A socket made with ``socket.socket(family)`` reports ``proto == 0``; the connections it accepts
    inherit that, and asyncio sets ``TCP_NODELAY`` only on sockets reporting ``IPPROTO_TCP``. Without
    it, every keep-alive request after the first waits ~40 ms for the browser's delayed ACK (Nagle),
    and the first page fetches ~120 static files over six connections. Re-wrapping the descriptor
    with the protocol named fixes that; ``TCP_NODELAY`` on the listener is inherited on Linux too.
    """
    blocking = sock.getblocking()
    inheritable = sock.get_inheritable()
    tcp = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
    tcp.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    tcp.setblocking(blocking)
    tcp.set_inheritable(inheritable)
    return tcp


def enable_tcp_nodelay() -> bool:
    """Make Streamlit's Starlette server answer keep-alive requests without Nagle's delay.

    Streamlit (>= 1.5x, Starlette/uvicorn) binds its listening socket itself, with ``proto`` left
    at 0 (the same flaw as uvicorn's pre-bound sockets, Kludex/uvicorn#3149). Returns whether the
    patch applied; False on a Streamlit without that server, where there is nothing to fix.
    """
    try:
        from streamlit.web.server.starlette import starlette_server
    except ImportError:
        return False
    original = getattr(starlette_server, "_bind_socket", None)
    if original is None:
        return False
    if getattr(original, "_clinicflow_tcp", False):
        return True

    def bind_socket(*args, **kwargs) -> socket.socket:
        return _tcp_socket(original(*args, **kwargs))

    bind_socket._clinicflow_tcp = True  # type: ignore[attr-defined]
    starlette_server._bind_socket = bind_socket
    return True


def skip_repl_check() -> None:
    """Skip Streamlit's once-per-process check for being imported in a REPL.

    On the first element of the first session Streamlit calls ``inspect.stack()`` to warn REPL users
    that they should use ``streamlit run``; with the modules imported here that took 0.2–0.3 s of the
    first visit (it reads every frame's source and resolves every module's file). This process *is*
    ``streamlit run``, so the check can only answer "no warning"; marking it done skips it.
    """
    from streamlit import delta_generator

    delta_generator._use_warning_has_been_displayed = True


def warm_app(args: list[str]) -> bool:
    """Run ``warm()`` of the ``_shared`` module beside the app being served (``run APP ...``), if it
    has one: the bundled app loads its default scenario into Streamlit's cache there. Returns whether
    it ran."""
    if len(args) < 2 or args[0] != "run":
        return False
    shared = Path(args[1]).resolve().parent / "_shared.py"
    if not shared.is_file():
        return False
    import importlib

    if str(shared.parent) not in sys.path:
        sys.path.insert(0, str(shared.parent))
    module = importlib.import_module("_shared")
    if not callable(getattr(module, "warm", None)):
        return False
    module.warm()
    return True


def main() -> None:
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import plotly.graph_objects  # noqa: F401
    import scipy.stats  # noqa: F401
    from streamlit.web import cli

    import clinicflow.domain.capacity
    import clinicflow.viz.practice  # noqa: F401

    skip_repl_check()
    warm_app(sys.argv[1:])
    enable_tcp_nodelay()
    sys.argv = ["streamlit", *sys.argv[1:]]
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
