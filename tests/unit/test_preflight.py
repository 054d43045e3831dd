"""``make test``'s first second: the system packages the suite uses, named with the command that
installs them when missing (tools/preflight.py)."""

from __future__ import annotations

from tools import preflight


def test_a_missing_program_is_named_with_its_package_and_the_install_command(monkeypatch, capsys):
    """Without chromedriver (and no root to install it) the check says what needs it and how to
    install it, and exits 0 (the tests skip) unless --strict."""
    monkeypatch.setattr(preflight, "present", lambda program: program != "chromedriver")
    monkeypatch.setattr(preflight.os, "geteuid", lambda: 1000)
    assert [p for p, _, _ in preflight.missing()] == ["chromedriver"]
    assert preflight.main([]) == 0
    out = capsys.readouterr().out
    assert "chromedriver (chromium-driver): the browser tests" in out
    assert "sudo apt-get install chromium-driver" in out
    assert preflight.main(["--strict"]) == 1


def test_as_root_with_apt_the_missing_packages_are_installed(monkeypatch, capsys):
    """Root and apt-get: the missing packages go to apt-get install, then are checked again."""
    installed: list[list[str]] = []
    have = {"chromium"}
    monkeypatch.setattr(preflight, "present", lambda p: p in have or p not in ("redis-cli",))
    monkeypatch.setattr(preflight.os, "geteuid", lambda: 0)
    monkeypatch.setattr(preflight.shutil, "which", lambda name: "/usr/bin/" + name)

    def install(packages: list[str]) -> bool:
        installed.append(packages)
        have.add("redis-cli")
        return True

    monkeypatch.setattr(preflight, "apt_install", install)
    assert preflight.main([]) == 0
    assert installed == [["redis-tools"]]
    assert "every system package the tests use is here" in capsys.readouterr().out
    assert preflight.main(["--no-install", "--strict"]) == 0  # nothing missing any more
