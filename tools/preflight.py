"""What the test suite needs from the machine, checked in the first second of ``make test``.

The one list of system packages (``.ci/run`` uses it too). With root and apt-get, the missing
ones are installed the way CI installs them; without, each missing piece is named with the
command that installs it, and the tests that need it are skipped at once (tests/conftest.py's
red UNTESTED summary names them again at the end) instead of erroring one by one.

Runs on the system Python (no third-party import): ``python3 tools/preflight.py
[--no-install] [--strict]``. Exit status 0 unless ``--strict`` and something is still missing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

# (a program that shows the package is there, the Debian package, what needs it)
PACKAGES: tuple[tuple[str, str, str], ...] = (
    ("chromium", "chromium", "the browser tests and PDF reports"),
    ("chromedriver", "chromium-driver", "the browser tests"),
    ("pg_isready", "postgresql-client", "starting and waiting for PostgreSQL"),
    ("redis-cli", "redis-tools", "waiting for Redis"),
    ("redis-server", "redis-server", "the Redis tests (a private server each)"),
    ("nginx", "nginx-light", "the tests of two nodes behind nginx"),
    ("prometheus", "prometheus", "the PromQL conformance and remote-write tests"),
    ("prometheus-node-exporter", "prometheus-node-exporter", "the node exporter tests"),
)
SBIN = ("/usr/sbin", "/sbin", "/usr/local/sbin")


def present(program: str) -> bool:
    """True when ``program`` is on PATH or in an sbin folder (nginx is not on a user's PATH)."""
    return shutil.which(program) is not None or any(
        Path(folder, program).exists() for folder in SBIN
    )


def missing() -> list[tuple[str, str, str]]:
    """The packages whose program is not found."""
    return [entry for entry in PACKAGES if not present(entry[0])]


def apt_install(packages: list[str]) -> bool:
    """``apt-get install`` the packages (an ``update`` first only when that fails); True when
    it worked."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    command = ["apt-get", "install", "-y", "-q", *packages]
    if subprocess.run(command, env=env).returncode == 0:
        return True
    subprocess.run(["apt-get", "update", "-q"], env=env)
    return subprocess.run(command, env=env).returncode == 0


def main(argv: list[str] | None = None) -> int:
    """Check, install when allowed, and say what is still missing."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--no-install", action="store_true", help="only check, even as root with apt-get"
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when something is missing")
    args = parser.parse_args(argv)
    lacking = missing()
    can_install = os.geteuid() == 0 and shutil.which("apt-get") is not None
    if lacking and can_install and not args.no_install:
        names = [package for _, package, _ in lacking]
        print(f"preflight: installing {' '.join(names)} (apt-get)", flush=True)
        apt_install(names)
        lacking = missing()
    if not lacking:
        print("preflight: every system package the tests use is here", flush=True)
        return 0
    red, reset = ("\033[31;1m", "\033[0m") if sys.stdout.isatty() else ("", "")
    print(f"{red}preflight: missing, the tests that need them will be skipped:{reset}")
    for program, package, need in lacking:
        print(f"{red}  {program} ({package}): {need}{reset}")
    packages = " ".join(package for _, package, _ in lacking)
    print(f"{red}  install them with: sudo apt-get install {packages}{reset}", flush=True)
    return 1 if args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
