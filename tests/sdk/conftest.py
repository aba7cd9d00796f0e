"""Fixtures for driving a real `ecsd` binary with the official Huawei Cloud Python SDK.

Every test gets its own ecsd process on a free loopback port with a fresh data directory,
so tests never see each other's servers. The binary comes from $ECSD_BIN (set by run.sh),
defaulting to <repo>/target/debug/ecsd.

The fixture object (`Ecsd`) carries:
  endpoint, ak, sk, project_id, data_dir
  ecs, ims, vpc            official SDK clients pointed at the endpoint
  wait_job(job_id)         poll ShowJob until SUCCESS/FAIL
  raw(method, path, ...)   an SDK-signed request sent with `requests`, for bodies the SDK hides
  discover()               image / VPC / subnet ids found through the IMS and VPC SDKs
  create_servers(...)      CreatePostPaidServers + wait for the job, returns the server ids
  kill(), start()          SIGKILL the process / start it again on the same data dir
  as_credential(ak, sk, project_id)  the same server seen through another credential

Fixtures: `ecsd` (instant timings), `ecsd_realistic` (default realistic timings: create about 5 s),
`ecsd_with_config` (factory taking a TOML text for `--config`; see two_projects()).
"""

from __future__ import annotations

import copy
import json
import os
import secrets
import signal
import socket
import string
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Optional

import pytest
import requests

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkecs.v2 import (
    CreatePostPaidServersRequest,
    CreatePostPaidServersRequestBody,
    EcsClient,
    PostPaidServer,
    PostPaidServerNic,
    PostPaidServerRootVolume,
    PostPaidServerTag,
    ServerId,
    ShowJobRequest,
    ShowServerRequest,
)
from huaweicloudsdkims.v2 import ImsClient, ListImagesRequest
from huaweicloudsdkvpc.v2 import ListSubnetsRequest, ListVpcsRequest, VpcClient

REPO = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 10.0
JOB_TIMEOUT_INSTANT_S = 10.0

# Never send loopback traffic through a proxy that the environment may define.
_no_proxy = {h for h in os.environ.get("NO_PROXY", "").split(",") if h} | {"127.0.0.1", "localhost"}
os.environ["NO_PROXY"] = os.environ["no_proxy"] = ",".join(sorted(_no_proxy))


def ecsd_binary() -> Path:
    return Path(os.environ.get("ECSD_BIN", REPO / "target" / "debug" / "ecsd"))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def random_ak() -> str:
    return "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(20))


def random_sk() -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(40))


@dataclass
class Catalogue:
    """Ids a real automation script would look up in IMS and VPC before creating servers."""

    image_id: str
    image_min_disk: int
    vpc_id: str
    subnet_id: str
    subnet_cidr: str
    subnet_network_id: Optional[str]


class Ecsd:
    """One ecsd process plus SDK clients for it."""

    # More `ecsd serve` arguments (e.g. ["--fixtures", FILE]); see the `ecsd_factory` fixture.
    extra_args: tuple = ()

    def __init__(self, data_dir: Path, timings: str, log_path: Path, config: Optional[Path] = None):
        self.binary = ecsd_binary()
        self.config = config
        self.data_dir = data_dir
        self.timings = timings
        self.log_path = log_path
        self.ak = random_ak()
        self.sk = random_sk()
        self.project_id = uuid.uuid4().hex
        self.proc: Optional[subprocess.Popen] = None
        self.port = 0
        self.endpoint = ""
        self._log_file = None
        self._catalogue: Optional[Catalogue] = None

    # ---------------------------------------------------------------- process

    def start(self) -> "Ecsd":
        if not self.binary.is_file():
            pytest.fail(
                f"ecsd binary not found at {self.binary}: run 'cargo build' first or set ECSD_BIN",
                pytrace=False,
            )
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ)
        env.update(
            ECSD_ACCESS_KEY=self.ak,
            ECSD_SECRET_KEY=self.sk,
            ECSD_PROJECT_ID=self.project_id,
            ECSD_LISTEN=f"127.0.0.1:{self.port}",
            ECSD_DATA_DIR=str(self.data_dir),
            ECSD_TIMINGS=self.timings,
            NO_COLOR="1",  # plain log lines in the captured log
        )
        self._log_file = open(self.log_path, "ab")
        self._log_file.write(f"\n===== ecsd start ({self.timings}) on {self.endpoint} =====\n".encode())
        self._log_file.flush()
        self.proc = subprocess.Popen(
            [
                str(self.binary),
                "serve",
                "--listen", f"127.0.0.1:{self.port}",
                "--data-dir", str(self.data_dir),
                "--timings", self.timings,
            ] + (["--config", str(self.config)] if self.config else []) + list(self.extra_args),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_ready()
        self._build_clients()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        last_err: Any = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(
                    f"ecsd ({self.binary}) exited with code {self.proc.returncode} before answering GET / "
                    "(its output is in the 'ecsd log' section)",
                    pytrace=False,
                )
            try:
                r = requests.get(self.endpoint + "/", timeout=1)
                if r.status_code == 200:
                    return
                last_err = f"HTTP {r.status_code}"
            except requests.RequestException as e:  # not listening yet
                last_err = e
            time.sleep(0.05)
        self.stop()
        pytest.fail(f"ecsd did not answer GET / within {READY_TIMEOUT_S}s ({last_err})", pytrace=False)

    def _build_clients(self) -> None:
        def creds():
            return BasicCredentials(self.ak, self.sk, self.project_id)

        self.credentials = creds()
        self.ecs = EcsClient.new_builder().with_credentials(creds()).with_endpoint(self.endpoint).build()
        self.ims = ImsClient.new_builder().with_credentials(creds()).with_endpoint(self.endpoint).build()
        self.vpc = VpcClient.new_builder().with_credentials(creds()).with_endpoint(self.endpoint).build()

    def as_credential(self, ak: str, sk: str, project_id: str) -> "Ecsd":
        """The same server seen through another credential (e.g. a second project from the config file)."""
        other = copy.copy(self)
        other.ak, other.sk, other.project_id = ak, sk, project_id
        other._catalogue = None
        other._build_clients()
        return other

    def kill(self) -> None:
        """SIGKILL: no chance to flush or shut down cleanly."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self._close_log()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._close_log()

    def _close_log(self) -> None:
        if self._log_file:
            self._log_file.close()
            self._log_file = None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return "(no ecsd log)"

    # ---------------------------------------------------------------- helpers

    def wait_job(self, job_id: str, timeout: Optional[float] = None, poll: float = 0.05):
        """Poll ShowJob until the job is SUCCESS or FAIL; return the ShowJobResponse."""
        if timeout is None:
            timeout = JOB_TIMEOUT_INSTANT_S if self.timings == "instant" else 60.0
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            job = self.ecs.show_job(ShowJobRequest(job_id=job_id))
            if not seen or seen[-1] != job.status:
                seen.append(job.status)
            if job.status in ("SUCCESS", "FAIL"):
                return job
            assert job.status in ("INIT", "RUNNING"), f"job {job_id} has an undocumented status {job.status!r}"
            if time.monotonic() > deadline:
                raise AssertionError(f"job {job_id} not finished after {timeout}s; statuses seen {seen}")
            time.sleep(poll)

    def raw(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: Optional[Iterable[tuple]] = None,
        headers: Optional[dict] = None,
    ) -> requests.Response:
        """Send a request signed exactly as the SDK signs it, and return the raw response.

        `path` may contain `{project_id}`. `body` is serialised with json.dumps (the SDK's own separators).
        """
        resource_path = path.replace("{project_id}", self.project_id)
        header_params = {"Content-Type": "application/json"}
        if headers:
            header_params.update(headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            header_params["Content-Type"] = "application/json;charset=UTF-8"
        req = SdkRequest(
            method=method.upper(),
            schema="http",
            host=f"127.0.0.1:{self.port}",
            resource_path=resource_path,
            query_params=list(query or []),
            header_params=header_params,
            body=data,
        )
        req = self.credentials.sign_request(req)
        return requests.request(
            method.upper(),
            f"{self.endpoint}{req.uri}",
            headers=req.header_params,
            data=req.body,
            timeout=10,
        )

    def discover(self) -> Catalogue:
        """Find an image, a VPC and a subnet the way automation does: IMS and VPC list calls."""
        if self._catalogue:
            return self._catalogue
        images = self.ims.list_images(ListImagesRequest(imagetype="gold", status="active")).images or []
        images = [i for i in images if i.status == "active" and (i.os_type or "Linux") == "Linux"]
        assert images, "IMS ListImages (GET /v2/cloudimages) returned no active public Linux image"
        image = images[0]
        vpcs = self.vpc.list_vpcs(ListVpcsRequest()).vpcs or []
        assert vpcs, "VPC ListVpcs (GET /v1/{project_id}/vpcs) returned no VPC"
        vpc = vpcs[0]
        subnets = self.vpc.list_subnets(ListSubnetsRequest(vpc_id=vpc.id)).subnets or []
        subnets = [s for s in subnets if s.vpc_id == vpc.id]
        assert subnets, f"VPC ListSubnets (GET /v1/{{project_id}}/subnets?vpc_id=...) returned no subnet of {vpc.id}"
        subnet = subnets[0]
        self._catalogue = Catalogue(
            image_id=image.id,
            image_min_disk=int(image.min_disk or 0),
            vpc_id=vpc.id,
            subnet_id=subnet.id,
            subnet_cidr=subnet.cidr,
            subnet_network_id=subnet.neutron_network_id,
        )
        return self._catalogue

    def server_spec(
        self,
        name: str = "sdk-e2e",
        flavor: str = "s6.medium.2",
        count: int = 1,
        metadata: Optional[dict] = None,
        tags: Optional[dict] = None,
    ) -> PostPaidServer:
        cat = self.discover()
        return PostPaidServer(
            name=name,
            flavor_ref=flavor,
            image_ref=cat.image_id,
            vpcid=cat.vpc_id,
            nics=[PostPaidServerNic(subnet_id=cat.subnet_id)],
            root_volume=PostPaidServerRootVolume(volumetype="SSD", size=max(40, cat.image_min_disk)),
            count=count,
            metadata=metadata,
            server_tags=[PostPaidServerTag(key=k, value=v) for k, v in (tags or {}).items()] or None,
        )

    def create_servers(self, count: int = 1, name: str = "sdk-e2e", flavor: str = "s6.medium.2", **kw) -> list:
        """Create servers with the v1 API, wait for the job to succeed, return the ids."""
        resp = self.ecs.create_post_paid_servers(
            CreatePostPaidServersRequest(
                body=CreatePostPaidServersRequestBody(server=self.server_spec(name, flavor, count, **kw))
            )
        )
        assert resp.job_id, "create answered without job_id"
        assert resp.server_ids and len(resp.server_ids) == count, resp.server_ids
        job = self.wait_job(resp.job_id)
        assert job.status == "SUCCESS", f"create job ended {job.status}: {job.error_code} {job.fail_reason}"
        return list(resp.server_ids)

    def show(self, server_id: str):
        return self.ecs.show_server(ShowServerRequest(server_id=server_id)).server

    def show_raw(self, server_id: str) -> dict:
        r = self.raw("GET", f"/v1/{{project_id}}/cloudservers/{server_id}")
        assert r.status_code == 200, (r.status_code, r.text)
        return r.json()["server"]


def server_ids(ids: Iterable[str]) -> list:
    return [ServerId(id=i) for i in ids]


def expect_client_error(fn, *args, **kwargs) -> ClientRequestException:
    """Call fn and return the ClientRequestException it must raise."""
    with pytest.raises(ClientRequestException) as info:
        fn(*args, **kwargs)
    return info.value


# -------------------------------------------------------------------- fixtures


def _spawn(tmp_path: Path, request, timings: str, config: Optional[str] = None) -> Ecsd:
    config_path = None
    if config is not None:
        config_path = tmp_path / "ecsd.toml"
        config_path.write_text(config)
    server = Ecsd(tmp_path / "data", timings, tmp_path / "ecsd.log", config_path)
    server.data_dir.mkdir()
    request.node._ecsd = server
    server.start()
    return server


@pytest.fixture
def ecsd(tmp_path, request):
    """A fresh ecsd with instant timings."""
    server = _spawn(tmp_path, request, "instant")
    yield server
    server.stop()


@pytest.fixture
def ecsd_realistic(tmp_path, request):
    """A fresh ecsd with the default realistic timings (create takes about 5 s)."""
    server = _spawn(tmp_path, request, "realistic")
    yield server
    server.stop()


@pytest.fixture
def ecsd_with_config(tmp_path, request):
    """Factory: ecsd_with_config(toml_text, timings="instant") starts a fresh ecsd with `--config FILE`
    (the TOML format of the README). At most one per test."""
    started = []

    def make(config: str, timings: str = "instant") -> Ecsd:
        assert not started, "one configured ecsd per test"
        server = _spawn(tmp_path, request, timings, config)
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Attach the ecsd log to the report of a failed test."""
    report = yield
    server = getattr(item, "_ecsd", None)
    if server is not None and report.failed:
        text = server.log()
        if len(text) > 20000:
            text = "...(truncated)...\n" + text[-20000:]
        report.sections.append(("ecsd log", text))
    return report


# A second project with its own access key, for tenancy tests (README's TOML format).
TEAM_B_PROJECT = "fedcba9876543210fedcba9876543210"
TEAM_B_AK = "AKTEAMB0000000000001"
TEAM_B_SK = "teamb-secret-key-0123456789abcdefghijklmn"
TEAM_B_CONFIG = f"""
[[projects]]
id = "{TEAM_B_PROJECT}"
name = "team-b"

[[access_keys]]
access_key = "{TEAM_B_AK}"
secret_key = "{TEAM_B_SK}"
project_id = "{TEAM_B_PROJECT}"
"""


def two_projects(ecsd_with_config, extra: str = ""):
    """Start ecsd with a second project; return (view of the bootstrap project, view of team-b)."""
    a = ecsd_with_config(TEAM_B_CONFIG + extra)
    return a, a.as_credential(TEAM_B_AK, TEAM_B_SK, TEAM_B_PROJECT)


# ------------------------------------------------- more than one ecsd per test, extra serve arguments


@pytest.fixture
def ecsd_factory(tmp_path, request):
    """Factory: ecsd_factory(config=None, timings="instant", extra_args=()) starts another fresh ecsd, each in
    its own sub-directory of tmp_path (data dir, log, config), as many per test as needed. `config` is a TOML
    text for `--config`; `extra_args` are more `ecsd serve` arguments (e.g. ["--fixtures", path]).
    The log of the last one started is attached to a failed test's report."""
    started = []

    def make(config: Optional[str] = None, timings: str = "instant", extra_args: Iterable[str] = ()) -> Ecsd:
        home = tmp_path / f"ecsd-{len(started)}"
        home.mkdir()
        config_path = None
        if config is not None:
            config_path = home / "ecsd.toml"
            config_path.write_text(config)
        server = Ecsd(home / "data", timings, home / "ecsd.log", config_path)
        server.extra_args = tuple(str(a) for a in extra_args)
        server.data_dir.mkdir()
        request.node._ecsd = server
        started.append(server)
        server.start()
        return server

    yield make
    for server in started:
        server.stop()


def run_ecsd_cli(*args: str, env: Optional[dict] = None, check: bool = True) -> subprocess.CompletedProcess:
    """Run the ecsd binary with a subcommand (`keys ...`, `ctl ...`); return the finished process (text output).
    `env` adds to the environment; with check, a non-zero exit fails the test with the command's output."""
    full_env = dict(os.environ)
    full_env.update(NO_COLOR="1")
    full_env.update(env or {})
    done = subprocess.run(
        [str(ecsd_binary()), *args], env=full_env, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL
    )
    if check and done.returncode != 0:
        pytest.fail(
            f"ecsd {' '.join(args)} exited {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}",
            pytrace=False,
        )
    return done
