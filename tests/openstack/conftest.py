"""A real ecsd with a password user, and the clouds.yaml the OpenStack tools read."""

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

PROJECT_ID = secrets.token_hex(16)
PASSWORD = "Os-tools-" + secrets.token_hex(8)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Ecsd:
    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        config = workdir / "ecsd.toml"
        config.write_text(
            f'[[users]]\nname = "alice"\npassword = "{PASSWORD}"\ndomain = "default"\nproject_id = "{PROJECT_ID}"\n'
        )
        env = dict(os.environ)
        env.update(
            ECSD_ACCESS_KEY="AKOPENSTACK" + secrets.token_hex(5).upper()[:9],
            ECSD_SECRET_KEY=secrets.token_hex(20),
            ECSD_PROJECT_ID=PROJECT_ID,
            NO_COLOR="1",
        )
        self.log_path = workdir / "ecsd.log"
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [os.environ["ECSD_BIN"], "serve", "--listen", f"127.0.0.1:{self.port}", "--data-dir",
             str(workdir / "data"), "--timings", "instant", "--config", str(config)],
            stdout=self.log, stderr=subprocess.STDOUT, env=env,
        )
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{self.endpoint}/v3", timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError("ecsd did not start: " + self.log_path.read_text())
        self.clouds = workdir / "clouds.yaml"
        self.clouds.write_text(
            "clouds:\n"
            "  ecsd:\n"
            "    auth:\n"
            f"      auth_url: {self.endpoint}/v3\n"
            "      username: alice\n"
            f"      password: {PASSWORD}\n"
            "      project_name: eu-de\n"
            "      user_domain_name: Default\n"
            "      project_domain_name: Default\n"
            "    region_name: eu-de\n"
            "    interface: public\n"
            "    identity_api_version: 3\n"
        )

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Runs `openstack --os-cloud ecsd ARGS` with this clouds.yaml."""
        command = os.environ.get("ECSD_OPENSTACK_CLI")
        base = [command] if command else [sys.executable, "-m", "openstackclient.shell"]
        env = dict(os.environ, OS_CLIENT_CONFIG_FILE=str(self.clouds))
        for name in [n for n in env if n.startswith("OS_") and n != "OS_CLIENT_CONFIG_FILE"]:
            del env[name]
        done = subprocess.run(base + ["--os-cloud", "ecsd", *args], capture_output=True, text=True, env=env,
                              timeout=300)
        if check and done.returncode != 0:
            raise AssertionError(f"openstack {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
        return done

    def cli_json(self, *args: str):
        return json.loads(self.cli(*args, "-f", "json").stdout)

    def connection(self):
        import openstack

        return openstack.connect(
            auth_url=f"{self.endpoint}/v3", username="alice", password=PASSWORD, project_name="eu-de",
            user_domain_name="Default", project_domain_name="Default", region_name="eu-de",
        )


@pytest.fixture
def ecsd():
    workdir = Path(tempfile.mkdtemp(prefix="ecsd-openstack-"))
    server = Ecsd(workdir)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
