"""A client of one running ecsd: its endpoint and credential, SDK-signed raw requests, preconfigured
official SDK clients, the typed test-control API under ``/_ecsd/``, and the waits every test writes."""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional
from urllib.parse import urlsplit

import requests
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest

# The operations a fault rule can match (docs/testing.md of ecsd).
OPERATIONS = ("create", "start", "stop", "reboot", "resize", "delete", "reset-password", "rename", "any")
# What a rule does when it fires.
EFFECTS = ("sub_job_fail", "precheck_fail", "http_error", "delay", "hang")


class EcsdError(Exception):
    """ecsd refused a call: the HTTP status and the API's error body."""

    def __init__(self, status: int, body: Any, method: str, path: str):
        self.status = status
        self.body = body
        self.code = _error_code(body)
        super().__init__(f"{method} {path} answered {status}: {json.dumps(body) if body is not None else '(no body)'}")


def _error_code(body: Any) -> Optional[str]:
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("code"), str):
            return error["code"]
        if isinstance(body.get("error_code"), str):
            return body["error_code"]
    return None


@dataclass
class FaultRule:
    """A stored fault rule, as ``GET /_ecsd/faults`` lists it."""

    id: str
    operation: str
    effect: Dict[str, Any]
    fired: int = 0
    evaluations: int = 0
    matchers: Dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, doc: Dict[str, Any]) -> "FaultRule":
        matchers = {k: v for k, v in doc.items() if k not in ("id", "operation", "effect", "fired", "evaluations")}
        return cls(doc["id"], doc["operation"], doc["effect"], doc.get("fired", 0), doc.get("evaluations", 0), matchers)


def effect(kind: str, code: Optional[str] = None, message: Optional[str] = None,
           status: Optional[int] = None, ms: Optional[int] = None) -> Dict[str, Any]:
    """The effect object of a rule, checked before it is sent so a mistake names itself."""
    if kind not in EFFECTS:
        raise ValueError(f"unknown effect kind {kind!r}; one of {', '.join(EFFECTS)}")
    doc: Dict[str, Any] = {"kind": kind}
    if kind in ("sub_job_fail", "precheck_fail", "http_error"):
        if not code:
            raise ValueError(f"effect {kind} needs a code, such as Ecs.0226")
        doc["code"] = code
        if message is not None:
            doc["message"] = message
    if kind == "http_error":
        if status is None:
            raise ValueError("effect http_error needs a status from 400 to 599")
        doc["status"] = status
    if kind == "delay":
        if ms is None:
            raise ValueError("effect delay needs ms")
        doc["ms"] = ms
    return doc


class Ecsd:
    """One running ecsd, seen through one credential."""

    def __init__(self, endpoint: str, access_key: str, secret_key: str, project_id: str, timings: str = "instant"):
        self.endpoint = endpoint.rstrip("/")
        self.access_key = access_key
        self.secret_key = secret_key
        self.project_id = project_id
        self.timings = timings
        self._http = requests.Session()
        # Loopback traffic never goes through a proxy the environment may define.
        self._http.trust_env = False
        self._clients: Dict[str, Any] = {}

    # ------------------------------------------------------------------ credentials and SDK clients

    def credentials(self) -> BasicCredentials:
        """Official SDK credentials for this ecsd."""
        return BasicCredentials(self.access_key, self.secret_key, self.project_id)

    def _client(self, name: str, module: str, cls: str) -> Any:
        if name not in self._clients:
            try:
                mod = __import__(module, fromlist=[cls])
            except ImportError as error:
                package = module.split(".")[0]
                raise ImportError(f"{package} is not installed: pip install {package} (or pytest-ecsd[sdk])") from error
            builder = getattr(mod, cls).new_builder()
            self._clients[name] = builder.with_credentials(self.credentials()).with_endpoint(self.endpoint).build()
        return self._clients[name]

    @property
    def ecs(self) -> Any:
        """A ``huaweicloudsdkecs`` ``EcsClient`` pointed at this ecsd."""
        return self._client("ecs", "huaweicloudsdkecs.v2", "EcsClient")

    @property
    def ims(self) -> Any:
        """A ``huaweicloudsdkims`` ``ImsClient``."""
        return self._client("ims", "huaweicloudsdkims.v2", "ImsClient")

    @property
    def vpc(self) -> Any:
        """A ``huaweicloudsdkvpc`` ``VpcClient``."""
        return self._client("vpc", "huaweicloudsdkvpc.v2", "VpcClient")

    @property
    def evs(self) -> Any:
        """A ``huaweicloudsdkevs`` ``EvsClient``."""
        return self._client("evs", "huaweicloudsdkevs.v2", "EvsClient")

    # ------------------------------------------------------------------ raw requests

    def request(self, method: str, path: str, body: Any = None, query: Optional[Dict[str, Any]] = None,
                expect: Optional[int] = None) -> Any:
        """Sends a request signed as the official SDK signs it and returns the parsed JSON (None when
        empty). ``path`` may hold ``{project_id}``. Raises EcsdError for a status >= 400, or one other
        than ``expect`` when given."""
        path = path.replace("{project_id}", self.project_id)
        data = json.dumps(body).encode() if body is not None else None
        request = SdkRequest(
            method=method.upper(),
            schema=urlsplit(self.endpoint).scheme,
            host=urlsplit(self.endpoint).netloc,
            resource_path=path,
            query_params=sorted((query or {}).items()),
            header_params={"Content-Type": "application/json"},
            body=data,
        )
        signed = self.credentials().sign_request(request)
        response = self._http.request(
            method.upper(), f"{self.endpoint}{signed.uri}", headers=signed.header_params, data=data, timeout=30
        )
        parsed = response.json() if response.content else None
        if response.status_code >= 400 or (expect is not None and response.status_code != expect):
            raise EcsdError(response.status_code, parsed, method.upper(), path)
        return parsed

    # ------------------------------------------------------------------ health and waits

    def health(self) -> Dict[str, Any]:
        """``GET /_ecsd/health`` (unsigned): status, store, version, uptime, timings."""
        response = self._http.get(f"{self.endpoint}/_ecsd/health", timeout=30)
        return response.json()

    def wait_for_job(self, job_id: str, timeout: float = 30.0, poll: float = 0.05) -> Dict[str, Any]:
        """Polls ``GET /v1/{project_id}/jobs/{job_id}`` until SUCCESS or FAIL; returns the job."""
        deadline = time.monotonic() + timeout
        while True:
            job = self.request("GET", f"/v1/{{project_id}}/jobs/{job_id}")
            if job["status"] in ("SUCCESS", "FAIL"):
                return job
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} is still {job['status']} after {timeout} s")
            time.sleep(poll)

    def wait_for_server_status(self, server_id: str, status: str, timeout: float = 30.0,
                               poll: float = 0.05) -> Dict[str, Any]:
        """Polls ``GET /v1/{project_id}/cloudservers/{server_id}`` until the server shows ``status``."""
        deadline = time.monotonic() + timeout
        while True:
            server = self.request("GET", f"/v1/{{project_id}}/cloudservers/{server_id}")["server"]
            if server["status"] == status:
                return server
            if time.monotonic() > deadline:
                raise TimeoutError(f"server {server_id} is {server['status']}, not {status}, after {timeout} s")
            time.sleep(poll)

    # ------------------------------------------------------------------ servers

    def create_servers(self, count: int = 1, name: str = "test", flavor: str = "s6.small.1",
                       wait: bool = True, **server: Any) -> List[str]:
        """Creates servers with the v1 API from the first active image, VPC and subnet the catalogue
        lists, as automation finds them; waits for the job unless ``wait`` is false. More fields of the
        ``server`` object (``metadata``, ``server_tags``, ...) pass through. Returns the ids."""
        image = next(i["id"] for i in self.request("GET", "/v2/cloudimages", query={"status": "active"})["images"])
        vpc = self.request("GET", "/v1/{project_id}/vpcs")["vpcs"][0]["id"]
        subnet = self.request("GET", "/v1/{project_id}/subnets", query={"vpc_id": vpc})["subnets"][0]["id"]
        body = {"server": {"name": name, "flavorRef": flavor, "imageRef": image, "vpcid": vpc, "count": count,
                           "nics": [{"subnet_id": subnet}], "root_volume": {"volumetype": "SSD"}, **server}}
        accepted = self.request("POST", "/v1/{project_id}/cloudservers", body)
        if wait:
            job = self.wait_for_job(accepted["job_id"])
            if job["status"] != "SUCCESS":
                raise EcsdError(200, job, "POST", "/v1/{project_id}/cloudservers")
        return accepted["serverIds"]

    def batch(self, action: str, server_ids: List[str], **options: Any) -> Dict[str, Any]:
        """Runs a batch ``os-start``, ``os-stop`` or ``reboot`` (``type="HARD"`` and such as options) and
        waits for its job; returns the job."""
        body = {action: {"servers": [{"id": i} for i in server_ids], **options}}
        return self.wait_for_job(self.request("POST", "/v1/{project_id}/cloudservers/action", body)["job_id"])

    # ------------------------------------------------------------------ fault rules

    def add_fault(self, operation: str, effect: Dict[str, Any], *, server_id: Optional[str] = None,
                  name_pattern: Optional[str] = None, tag: Optional[str] = None, project_id: Optional[str] = None,
                  probability: Optional[float] = None, count: Optional[int] = None, seed: int = 0) -> FaultRule:
        """Adds a fault rule (``POST /_ecsd/faults``)."""
        if operation not in OPERATIONS:
            raise ValueError(f"unknown operation {operation!r}; one of {', '.join(OPERATIONS)}")
        rule: Dict[str, Any] = {"operation": operation, "effect": effect, "seed": seed}
        for key, value in (("server_id", server_id), ("name_pattern", name_pattern), ("tag", tag),
                           ("project_id", project_id), ("probability", probability), ("count", count)):
            if value is not None:
                rule[key] = value
        return FaultRule.of(self.request("POST", "/_ecsd/faults", rule, expect=201))

    @contextlib.contextmanager
    def fault(self, operation: str, *, kind: str = "sub_job_fail", code: Optional[str] = None,
              message: Optional[str] = None, status: Optional[int] = None, ms: Optional[int] = None,
              **matchers: Any) -> Iterator[FaultRule]:
        """A fault rule for the ``with`` block, removed when it ends:
        ``with ecsd.fault(operation="stop", code="Ecs.0226", count=1): ...``"""
        rule = self.add_fault(operation, effect(kind, code, message, status, ms), **matchers)
        try:
            yield rule
        finally:
            with contextlib.suppress(EcsdError):
                self.delete_fault(rule.id)

    def faults(self) -> List[FaultRule]:
        """The fault rules with their counters."""
        return [FaultRule.of(doc) for doc in self.request("GET", "/_ecsd/faults")["faults"]]

    def delete_fault(self, rule_id: str) -> None:
        """Removes a rule; the sub-jobs it held go on."""
        self.request("DELETE", f"/_ecsd/faults/{rule_id}", expect=204)

    def release_fault(self, rule_id: str) -> int:
        """Lets the sub-jobs a ``hang`` rule holds go on; returns how many."""
        return self.request("POST", f"/_ecsd/faults/{rule_id}/release")["released"]

    # ------------------------------------------------------------------ state

    def reset(self, project_id: Optional[str] = None) -> None:
        """Removes the servers, jobs and client tokens of a project (this credential's by default)."""
        self.request("POST", "/_ecsd/reset", {"project_id": project_id or self.project_id}, expect=204)

    def save_snapshot(self, name: str) -> None:
        self.request("POST", "/_ecsd/snapshots", {"name": name}, expect=201)

    def restore_snapshot(self, name: str) -> None:
        self.request("POST", f"/_ecsd/snapshots/{name}/restore", expect=204)

    def snapshots(self) -> List[Dict[str, str]]:
        return self.request("GET", "/_ecsd/snapshots")["snapshots"]

    def delete_snapshot(self, name: str) -> None:
        self.request("DELETE", f"/_ecsd/snapshots/{name}", expect=204)

    def load_fixtures(self, servers: List[Dict[str, Any]]) -> List[str]:
        """Creates servers directly in their stable statuses (``POST /_ecsd/fixtures``); returns their ids."""
        return self.request("POST", "/_ecsd/fixtures", {"servers": servers}, expect=201)["servers"]

    # ------------------------------------------------------------------ time

    def advance_clock(self, seconds: float) -> str:
        """Moves simulated time forward; transitions that become due are applied first. Returns the new time."""
        return self.request("POST", "/_ecsd/clock/advance", {"seconds": seconds})["now"]

    def settle(self) -> str:
        """Finishes every pending transition now; returns the simulated time."""
        return self.request("POST", "/_ecsd/clock/settle")["now"]
