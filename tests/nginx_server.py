"""nginx from Debian's packages in front of test nodes, configured from deploy/nginx.conf."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

import requests

from tests.servers import free_port

DEPLOY_CONF = Path(__file__).resolve().parent.parent / "deploy" / "nginx.conf"


class Nginx:
    """The project's nginx.conf, pointed at ``ports`` and listening on a free port."""

    def __init__(self, folder: Path, ports: list[int]) -> None:
        """Write the config and start nginx in the foreground."""
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        folder.mkdir(parents=True, exist_ok=True)
        conf = DEPLOY_CONF.read_text()
        servers = "".join(
            f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=10s;\n" for p in ports
        )
        conf = re.sub(r"(        server 127\.0\.0\.1:\d+ [^\n]*\n)+", servers, conf)
        conf = conf.replace("listen 8080;", f"listen 127.0.0.1:{self.port};")
        conf = conf.replace("worker_processes auto;", "worker_processes 1;")
        conf = conf.replace("worker_connections 16384;", "worker_connections 1024;")
        conf = f"pid {folder}/nginx.pid;\nerror_log {folder}/error.log;\n" + conf.replace(
            "http {",
            f"http {{\n    access_log {folder}/access.log;\n"
            f"    client_body_temp_path {folder}/body;\n"
            f"    proxy_temp_path {folder}/proxy;",
            1,
        )
        (folder / "nginx.conf").write_text(conf)
        self.proc = subprocess.Popen(
            [binary, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited: {self.proc.stderr.read().decode()}")
            try:
                requests.get(self.url + "/healthz", timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("nginx did not start")

    def stop(self) -> None:
        """Stop nginx."""
        self.proc.terminate()
        self.proc.wait(10)
