"""Schemathesis hooks for fuzzing ecsd: every request is signed with the official Huawei Cloud
SDK signer, the way the SDKs sign, right before it is sent (so the signature covers the exact
bytes, path and query schemathesis sends).

Loaded by tests/fuzz/schemathesis.sh through SCHEMATHESIS_HOOKS. Reads:
  ECSD_ACCESS_KEY, ECSD_SECRET_KEY, ECSD_PROJECT_ID   the credential ecsd was started with
  ECSD_FUZZ_BASE                                      ecsd's base URL
  ECSD_FUZZ_SUMMARY                                   where to write the request summary (JSON)
  ECSD_FUZZ_SEED_NUMBER                               seed of the hooks' own random choices

What the hooks do besides signing:
  - Made-up `X-Auth-Token`/`Authorization` headers are dropped: the signature authenticates.
  - `{project_id}` is always the real project, so requests get past the tenancy check and reach
    the handlers (a fuzzed project id only ever gets 403).
  - Half of the `{server_id}`/`{job_id}` path values and of the `{"id"}` entries of `servers`
    lists are swapped for ids of servers and jobs that exist (a small fixture fleet, re-created
    when a reset empties the project), so operations run on real servers, not only into 404s.
  - A fault rule the fuzzer manages to add (POST /_ecsd/faults) is deleted at once: its effect
    could be a deliberate 5xx (`http_error`) or a delay of minutes for later requests, which would
    be ecsd doing what it was asked, not a bug.
  - ecsd checks X-Sdk-Date against its own clock, which POST /_ecsd/clock/advance moves forward:
    once a real-time signature is refused after an advance, the signer follows the `now` those
    answers report, so requests stay within the 15 minutes.
  - Every answer is counted by status; each 5xx is recorded with its request for the report.
"""

from __future__ import annotations

import atexit
import collections
import json
import os
import random
import threading
from datetime import datetime, timedelta, timezone
from urllib.parse import unquote, urlsplit

import requests
import schemathesis
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest

AK = os.environ["ECSD_ACCESS_KEY"]
SK = os.environ["ECSD_SECRET_KEY"]
PROJECT_ID = os.environ["ECSD_PROJECT_ID"]
SUMMARY = os.environ.get("ECSD_FUZZ_SUMMARY")
BASE = os.environ.get("ECSD_FUZZ_BASE", "").rstrip("/")

_lock = threading.Lock()
_statuses: collections.Counter = collections.Counter()
_operations: collections.Counter = collections.Counter()
_server_errors: list = []
_network_errors: list = []
# The first refusal of each operation by the authentication layer, to tell signing bugs apart.
_auth_refusals: dict = {}
# How far ecsd's clock is ahead of ours (moved by /_ecsd/clock/advance).
_clock_offset = timedelta(0)
# Ids that exist in ecsd, to aim fuzzed requests at real servers and jobs.
_random = random.Random(int(os.environ.get("ECSD_FUZZ_SEED_NUMBER", "1")))
_known_servers: list = []
_known_jobs: list = []
_calls_since_refresh = 0


def _query_pairs(query: str) -> list:
    """The query as ecsd reads it for the signature: split on `&` and the first `=`, then
    percent-decode (a `+` stays a plus)."""
    pairs = []
    for piece in query.split("&"):
        if not piece:
            continue
        key, _, value = piece.partition("=")
        pairs.append((unquote(key), unquote(value)))
    return pairs


class SdkSignature(requests.auth.AuthBase):
    """Signs a prepared request with huaweicloudsdkcore's BasicCredentials.sign_request."""

    def __call__(self, prepared: requests.PreparedRequest) -> requests.PreparedRequest:
        url = urlsplit(prepared.url)
        body = prepared.body
        if isinstance(body, str):
            body = body.encode("utf-8")
        headers = {}
        if prepared.headers.get("X-Client-Token") is not None:
            headers["X-Client-Token"] = prepared.headers["X-Client-Token"]
        # The SDK signs a non-JSON content type as UNSIGNED-PAYLOAD, which ecsd refuses for a
        # body; leave such a Content-Type unsigned so the body hash is signed and the request
        # reaches the handler.
        content_type = prepared.headers.get("Content-Type")
        if content_type is not None and content_type.startswith("application/json"):
            headers["Content-Type"] = content_type
        with _lock:
            offset = _clock_offset
        headers["X-Sdk-Date"] = (datetime.now(timezone.utc) + offset).strftime("%Y%m%dT%H%M%SZ")
        request = SdkRequest(
            method=prepared.method.upper(),
            schema=url.scheme,
            host=url.netloc,
            resource_path=url.path or "/",
            query_params=_query_pairs(url.query),
            header_params=headers,
            body=body or None,
        )
        signed = BasicCredentials(AK, SK, PROJECT_ID).sign_request(request)
        for name, value in signed.header_params.items():
            if name.lower() in ("content-type", "x-client-token", "host"):
                continue  # already on the request, byte for byte as signed
            prepared.headers[name] = value
        return prepared


_signature = SdkSignature()


def _refresh_known_servers(base: str) -> None:
    """Lists the project's servers; loads a small fleet when there are none."""
    global _calls_since_refresh
    _calls_since_refresh = 0
    try:
        listed = _signed("GET", f"{base}/v1/{PROJECT_ID}/cloudservers/detail?limit=100")
        ids = [s["id"] for s in listed.json().get("servers", [])] if listed.status_code == 200 else []
        if not ids:
            fleet = {"servers": [
                {"name": "fuzz-active", "count": 4},
                {"name": "fuzz-stopped", "status": "SHUTOFF", "count": 3},
                {"name": "fuzz-locked", "locked": True, "tags": ["team=fuzz"]},
            ]}
            loaded = _signed("POST", f"{base}/_ecsd/fixtures", json=fleet)
            ids = loaded.json().get("servers", []) if loaded.status_code == 201 else []
        _known_servers[:] = ids
    except (ValueError, TypeError, AttributeError, requests.RequestException):
        pass


def _maybe_known(value, known: list):
    if known and _random.random() < 0.5:
        return _random.choice(known)
    return value


def _aim_server_lists(body) -> None:
    """Swaps some `{"id": ...}` entries of `servers` lists (at any depth) for real server ids."""
    if isinstance(body, dict):
        for key, value in body.items():
            if key == "servers" and isinstance(value, list):
                for entry in value:
                    if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                        entry["id"] = _maybe_known(entry["id"], _known_servers)
            else:
                _aim_server_lists(value)


@schemathesis.hook
def before_call(context, case, kwargs):
    global _calls_since_refresh
    _calls_since_refresh += 1
    if BASE and (not _known_servers or _calls_since_refresh >= 50):
        _refresh_known_servers(BASE)
    parameters = case.path_parameters or {}
    if "project_id" in parameters:
        parameters["project_id"] = PROJECT_ID
    if "server_id" in parameters:
        parameters["server_id"] = _maybe_known(parameters["server_id"], _known_servers)
    if "job_id" in parameters:
        parameters["job_id"] = _maybe_known(parameters["job_id"], _known_jobs)
    _aim_server_lists(case.body)
    # Schemathesis fills the documented security schemes' headers with made-up values; a token
    # header, even empty, takes precedence over the signature, so every such request would stop
    # at the authentication layer (which tests/auth.rs covers). Sign them instead.
    for name in list(case.headers or {}):
        if name.lower() in ("x-auth-token", "authorization"):
            del case.headers[name]
    kwargs["auth"] = _signature


def _signed(method: str, url: str, **kwargs) -> requests.Response:
    return requests.request(method, url, auth=_signature, timeout=10, **kwargs)


@schemathesis.hook
def after_call(context, case, response):
    operation = f"{case.operation.method.upper()} {case.operation.path}"
    status = response.status_code
    request = response.request
    with _lock:
        _statuses[status] += 1
        _operations[operation] += 1
        if status >= 500:
            body = request.body
            if isinstance(body, bytes):
                body = body.decode("utf-8", "replace")
            _server_errors.append({
                "operation": operation,
                "request": f"{request.method} {request.url}",
                "request_body": body,
                "status": status,
                "response": response.text[:2000],
            })
        if status == 401 and operation not in _auth_refusals:
            _auth_refusals[operation] = {
                "request": f"{request.method} {request.url}",
                "headers": dict(request.headers),
                "response": response.text[:500],
            }
    if status in (200, 201):
        try:
            answer = response.json()
            if isinstance(answer, dict) and isinstance(answer.get("job_id"), str):
                with _lock:
                    _known_jobs.append(answer["job_id"])
                    del _known_jobs[:-50]
        except ValueError:
            pass
    if operation in ("POST /_ecsd/reset", "POST /_ecsd/snapshots/{name}/restore") and status == 204:
        _known_servers.clear()
    if operation == "POST /_ecsd/faults" and status == 201 and BASE:
        try:
            rule = response.json()["id"]
            _signed("DELETE", f"{BASE}/_ecsd/faults/{rule}")
        except (ValueError, KeyError, TypeError, requests.RequestException):
            pass
    if operation in ("POST /_ecsd/clock/advance", "POST /_ecsd/clock/settle") and status == 200 and BASE:
        _follow_clock(response)


def _follow_clock(response) -> None:
    """Signs with ecsd's simulated time if (and only if) ecsd checks X-Sdk-Date against it."""
    global _clock_offset
    try:
        now = datetime.strptime(response.json()["now"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    except (ValueError, KeyError, TypeError):
        return
    ahead = now - datetime.now(timezone.utc)
    if abs(ahead) < timedelta(minutes=10):
        return
    with _lock:
        _clock_offset = timedelta(0)
    try:
        real_time_accepted = _signed("GET", f"{BASE}/_ecsd/snapshots").status_code != 401
    except requests.RequestException:
        return
    with _lock:
        _clock_offset = timedelta(0) if real_time_accepted else ahead


@schemathesis.hook
def after_network_error(context, case, request):
    with _lock:
        _network_errors.append(f"{request.method} {request.url}")


@atexit.register
def _write_summary():
    if not SUMMARY:
        return
    with _lock:
        summary = {
            "requests": sum(_statuses.values()),
            "by_status": {str(k): v for k, v in sorted(_statuses.items())},
            "by_operation": dict(sorted(_operations.items())),
            "server_errors": _server_errors,
            "network_errors": _network_errors,
            "auth_refusals": _auth_refusals,
        }
    with open(SUMMARY, "w", encoding="utf-8") as out:
        json.dump(summary, out, indent=1)
