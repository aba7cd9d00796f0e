"""Starting and stopping an ecsd binary for a test session."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import string
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import List, Optional

import requests

from .client import Ecsd

READY_TIMEOUT_S = 30.0


class EcsdNotFound(RuntimeError):
    """No ecsd binary where the options, ECSD_BIN or PATH say."""


def find_binary(given: Optional[str]) -> Path:
    """The binary from ``--ecsd-bin``, else ``ECSD_BIN``, else ``ecsd`` on PATH."""
    for candidate, source in ((given, "--ecsd-bin"), (os.environ.get("ECSD_BIN"), "ECSD_BIN")):
        if candidate:
            path = Path(candidate)
            if not (path.is_file() and os.access(path, os.X_OK)):
                raise EcsdNotFound(f"{source} names {candidate}, which is not an executable file")
            return path
    found = shutil.which("ecsd")
    if not found:
        raise EcsdNotFound(
            "no ecsd binary: pass --ecsd-bin PATH, set ECSD_BIN, or put ecsd on PATH "
            "(cargo install --path . in the ecsd repository)"
        )
    return Path(found)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EcsdProcess:
    """An ecsd process on a free loopback port with a temporary data dir and its own credential."""

    def __init__(self, binary: Path, timings: str = "instant", config: Optional[Path] = None,
                 extra_args: Optional[List[str]] = None):
        self.binary = binary
        self.timings = timings
        self.config = config
        self.extra_args = list(extra_args or [])
        self.data_dir = Path(tempfile.mkdtemp(prefix="pytest-ecsd-"))
        self.log_path = self.data_dir / "ecsd.log"
        self.access_key = "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(20))
        self.secret_key = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(40))
        self.project_id = uuid.uuid4().hex
        self.proc: Optional[subprocess.Popen] = None
        self.endpoint = ""

    def start(self) -> Ecsd:
        port = _free_port()
        self.endpoint = f"http://127.0.0.1:{port}"
        env = dict(os.environ)
        env.update(ECSD_ACCESS_KEY=self.access_key, ECSD_SECRET_KEY=self.secret_key,
                   ECSD_PROJECT_ID=self.project_id, NO_COLOR="1")
        args = [str(self.binary), "serve", "--listen", f"127.0.0.1:{port}", "--data-dir",
                str(self.data_dir / "data"), "--timings", self.timings]
        if self.config:
            args += ["--config", str(self.config)]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(args + self.extra_args, env=env, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_ready()
        return Ecsd(self.endpoint, self.access_key, self.secret_key, self.project_id, self.timings)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        session = requests.Session()
        session.trust_env = False
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ecsd exited with code {self.proc.returncode} at start:\n{self.log()}")
            try:
                if session.get(self.endpoint + "/_ecsd/health", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"ecsd did not answer within {READY_TIMEOUT_S} s:\n{self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        shutil.rmtree(self.data_dir, ignore_errors=True)
