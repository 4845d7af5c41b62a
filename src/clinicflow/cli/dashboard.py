"""``clinicflow dashboard``: start the Streamlit app, bound to localhost unless told otherwise."""

from __future__ import annotations

import ipaddress
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import typer

from ..errors import InputError

APP = Path(__file__).resolve().parents[3] / "dashboards" / "app.py"
#: How the scenario files reach the pages (``dashboards/_shared.py`` reads it).
SCENARIOS_ENV = "CLINICFLOW_SCENARIOS"

#: One DNS label (RFC 1123): letters, digits and inner hyphens, at most 63 characters.
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_EXPECTED_HOST = "expected a host name or IP address, e.g. 127.0.0.1, 0.0.0.0 or clinic-pc.local"


def register(app: typer.Typer) -> None:
    app.command("dashboard")(dashboard)


def streamlit_command(app_path: Path, host: str, port: int, watch: bool = False) -> list[str]:
    """The server's command line.

    Source watching is off unless asked for: Streamlit's watcher resolves the path of every imported
    module (thousands, with pandas, plotly and scipy loaded) on the server's event loop at each new
    session's first run, which held the first page's messages back by 0.3–0.5 s.
    """
    return [
        sys.executable,
        "-m",
        "clinicflow.dashboard_server",
        "run",
        str(app_path),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "viewer",
        "--server.fileWatcherType",
        "auto" if watch else "none",
    ]


def check_host(host: str) -> str:
    """``host`` if the server can bind to it: an IPv4/IPv6 address or a host name.

    Streamlit takes ``--server.address`` as given and only fails once the server starts (a URL or a
    glued-on port ends in a socket error's traceback), so the value is checked before anything runs.
    """
    if _is_ip(host):
        return host
    name = host[:-1] if host.endswith(".") else host
    labels = name.split(".")
    if (
        name
        and len(name) <= 253
        and all(_LABEL.match(label) for label in labels)
        and not all(label.isdigit() for label in labels)  # 999.1.1.1 is a bad address, not a name
    ):
        return host
    hint = ""
    if "://" in host:
        hint = " (not a URL: leave out the scheme)"
    elif re.fullmatch(r"(\[[0-9A-Fa-f:.]+\]|[^\s:/\[\]]+):\d+", host):  # 0.0.0.0:80, [::1]:80
        hint = " (give the port with --port)"
    raise InputError(None, "--host", f"{_EXPECTED_HOST}{hint}, got {host!r}")


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach a server bound to ``host`` (PHI stays here)."""
    if host.rstrip(".").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def dashboard(
    scenarios: list[Path] = typer.Argument(
        None,
        help="Your own scenario files, listed before the bundled examples; the pages open on the first.",
        show_default=False,
    ),
    host: str = typer.Option("127.0.0.1", help="Address to bind; the default keeps PHI on this machine."),
    port: int = typer.Option(8501, min=1, max=65535, help="Port to serve on."),
    app_path: Path = typer.Option(APP, "--app", help="The Streamlit app file (default: the bundled one)."),
    watch: bool = typer.Option(
        False, "--watch", help="Reload pages when their source changes (for dashboard development)."
    ),
) -> None:
    """Start the dashboard (schedule, patient flow, what-if, no-show analytics, surgery)."""
    check_host(host)
    given = checked_scenarios(scenarios or [])
    if not app_path.is_file():
        raise InputError(
            app_path, None, "dashboard app not found (run from a clinicflow checkout or pass --app)"
        )
    if not is_loopback(host):
        typer.echo(f"warning: serving on {host}: anyone who can reach it sees practice data", err=True)
    env = dict(os.environ)
    env.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")
    env[SCENARIOS_ENV] = json.dumps([str(p) for p in given])  # a JSON list: any character in a path
    raise typer.Exit(_serve(streamlit_command(app_path, host, port, watch), env))


def checked_scenarios(paths: list[Path]) -> list[Path]:
    """The scenario files as absolute paths, each loaded and validated first: a mistake in one is
    the CLI's one line and exit code 2 before the server starts, not an error on a page later."""
    from ..scenario_file import load_scenario

    out: list[Path] = []
    for p in paths:
        if not p.is_file():
            raise InputError(p, None, "no such scenario file (expected a scenario YAML file)")
        load_scenario(p)
        if p.resolve() not in out:
            out.append(p.resolve())
    return out


def _serve(cmd: list[str], env: dict[str, str]) -> int:
    """Run the server in this process's place where the OS allows it.

    With ``exec`` the server keeps this process's id, so a service manager's (or a test's) stop
    signal reaches the server itself; a child process would be left running when only this
    wrapper was stopped.
    """
    if os.name == "posix":
        sys.stdout.flush()
        sys.stderr.flush()
        os.execve(cmd[0], cmd, env)
    return subprocess.call(cmd, env=env)
