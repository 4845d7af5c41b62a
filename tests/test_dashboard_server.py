"""The dashboard's server wrapper: no Nagle delay on keep-alive requests, and a server that stops with
the ``clinicflow dashboard`` process that started it."""

from __future__ import annotations

import http.client
import os
import re
import socket
import statistics
import sys
import time
import urllib.request

import pytest

from clinicflow.cli.dashboard import APP, streamlit_command
from clinicflow.dashboard_server import enable_tcp_nodelay, start_dashboard, stop_dashboard
from conftest import ROOT


@pytest.fixture()
def patched_bind(monkeypatch):
    from streamlit.web.server.starlette import starlette_server

    monkeypatch.setattr(starlette_server, "_bind_socket", starlette_server._bind_socket)
    assert enable_tcp_nodelay()
    assert enable_tcp_nodelay()  # idempotent: wraps once
    return starlette_server._bind_socket


def test_streamlit_listening_socket_reports_tcp_without_the_patch():
    """The flaw being worked around: Streamlit's socket says proto 0, so asyncio leaves Nagle on."""
    from streamlit.web.server.starlette import starlette_server

    if getattr(starlette_server._bind_socket, "_clinicflow_tcp", False):
        pytest.skip("patched in this process")
    sock = starlette_server._bind_socket("127.0.0.1", 0, 8)
    try:
        assert sock.proto == 0
    finally:
        sock.close()


def test_patched_socket_and_its_connections_are_tcp_nodelay(patched_bind):
    sock = patched_bind("127.0.0.1", 0, 8)
    try:
        assert sock.proto == socket.IPPROTO_TCP
        assert not sock.getblocking() and sock.get_inheritable()  # as Streamlit made it
        client = socket.create_connection(sock.getsockname())
        sock.setblocking(True)
        conn, _ = sock.accept()
        # accepted sockets inherit proto, so asyncio's transport sets TCP_NODELAY on each connection
        assert conn.proto == socket.IPPROTO_TCP
        if sys.platform.startswith("linux"):
            assert conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        conn.close()
        client.close()
    finally:
        sock.close()


def test_cli_turns_source_watching_off_unless_asked():
    cmd = streamlit_command(APP, "127.0.0.1", 8501)
    assert cmd[cmd.index("--server.fileWatcherType") + 1] == "none"
    cmd = streamlit_command(APP, "127.0.0.1", 8501, watch=True)
    assert cmd[cmd.index("--server.fileWatcherType") + 1] == "auto"


@pytest.mark.skipif(os.name != "posix", reason="exec replaces the process on POSIX only")
def test_dashboard_serves_fast_keep_alive_and_stops_with_its_process():
    proc, url, _ = start_dashboard(ROOT)
    port = int(url.rsplit(":", 1)[1])
    try:
        with urllib.request.urlopen(url) as r:
            assets = re.findall(r'(?:src|href)="\.?/?(static/js/[^"]+)"', r.read().decode())[:9]
        assert len(assets) >= 5
        conn = http.client.HTTPConnection("127.0.0.1", port)
        times = []
        for a in assets:
            t0 = time.perf_counter()
            conn.request("GET", "/" + a)
            assert conn.getresponse().read()
            times.append(time.perf_counter() - t0)
        conn.close()
        # under Nagle's algorithm every request after the first on a connection waits ~40 ms for the
        # client's delayed ACK; without it a small static file takes a few ms even on a busy machine
        assert statistics.median(times[1:]) < 0.03, times
    finally:
        stop_dashboard(proc)
    # the process that was stopped was the server itself: nothing answers on the port any more
    with pytest.raises(OSError):
        urllib.request.urlopen(url + "/_stcore/health", timeout=2)


def test_warm_app_fills_the_default_scenario_cache(monkeypatch, tmp_path):
    from clinicflow.dashboard_server import warm_app

    assert not warm_app(["hello"])
    (tmp_path / "app.py").write_text("")
    assert not warm_app(["run", str(tmp_path / "app.py")])  # no _shared.py beside it: nothing to warm
    assert warm_app(["run", str(APP)])
    import _shared

    def no_loading(path):
        raise AssertionError("the first visit should find the default scenario cached")

    monkeypatch.setattr(_shared, "load_scenario", no_loading)
    scenario = _shared.cached_scenario(str(_shared.DEFAULT), _shared.DEFAULT.stat().st_mtime)
    assert scenario.clinic.name == "Maple Street Family Medicine"
    _shared.cached_scenario.clear()
    with pytest.raises(AssertionError, match="cached"):
        _shared.cached_scenario(str(_shared.DEFAULT), _shared.DEFAULT.stat().st_mtime)


def test_first_element_skips_the_repl_check(monkeypatch):
    import inspect

    from streamlit import delta_generator

    from clinicflow.dashboard_server import skip_repl_check

    def slow_stack(*a, **k):
        raise AssertionError("inspect.stack() called on the first element")

    monkeypatch.setattr(inspect, "stack", slow_stack)
    monkeypatch.setattr(delta_generator, "_use_warning_has_been_displayed", False)
    with pytest.raises(AssertionError, match="first element"):
        delta_generator._maybe_print_use_warning()  # what Streamlit does unpatched
    monkeypatch.setattr(delta_generator, "_use_warning_has_been_displayed", False)
    skip_repl_check()
    delta_generator._maybe_print_use_warning()
