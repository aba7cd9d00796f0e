"""Issue 15: three replicas of ecsd on one PostgreSQL database serve one fleet through the official SDK.

Three `ecsd serve` processes share a fresh database (made from `ECSD_TEST_POSTGRES`, by default
postgres://postgres@127.0.0.1:5432/test, the server CI starts with scripts/postgres-up; dropped
afterwards) and one bootstrap credential. Each has an EcsClient of its own; the lifecycle goes
round-robin over them and every job is waited on through another replica than the one that
accepted it. Without PostgreSQL the test fails: it is never skipped.
"""

from __future__ import annotations

import os
import subprocess
import uuid

import pytest
import requests

from huaweicloudsdkecs.v2 import (
    CreatePostPaidServersRequest,
    CreatePostPaidServersRequestBody,
    ResizePostPaidServerOption,
    ResizePostPaidServerRequest,
    ResizePostPaidServerRequestBody,
    ShowServerRequest,
)

from conftest import Ecsd, expect_client_error, random_ak, random_sk
from test_lifecycle import assert_job, assert_statuses, delete, list_servers, reboot, start, stop

REPLICAS = 3
ADMIN_URL = os.environ.get("ECSD_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432/test")


def admin(sql: str) -> None:
    done = subprocess.run(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", ADMIN_URL, "-c", sql],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )
    if done.returncode != 0:
        pytest.fail(
            f"PostgreSQL at {ADMIN_URL} refused {sql!r} (start it with scripts/postgres-up): {done.stderr.strip()}",
            pytrace=False,
        )


@pytest.fixture
def cluster(tmp_path, request):
    """Three replicas on one fresh database, with the first one's credential on all three."""
    name = f"ecsd_sdk_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin(f'CREATE DATABASE "{name}"')
    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    ak, sk, project_id = random_ak(), random_sk(), uuid.uuid4().hex
    replicas = []
    try:
        for n in range(REPLICAS):
            home = tmp_path / f"replica-{n}"
            (home / "data").mkdir(parents=True)
            replica = Ecsd(home / "data", "instant", home / "ecsd.log")
            replica.ak, replica.sk, replica.project_id = ak, sk, project_id
            replica.extra_args = ("--store", url)
            request.node._ecsd = replica
            replicas.append(replica)
            replica.start()
        yield replicas
    finally:
        for replica in replicas:
            replica.stop()
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_three_replicas_on_one_postgresql_database_serve_one_fleet_through_the_sdk(cluster):
    health = [requests.get(r.endpoint + "/_ecsd/health", timeout=5).json() for r in cluster]
    assert all(h["store_kind"] == "postgres" and h["store"] == "reachable" for h in health), health
    assert len({h["replica_id"] for h in health}) == REPLICAS, "each replica an id of its own"

    calls = iter(range(10_000))

    def accept_and_wait(operation, *args):
        """Run `operation(replica, *args)` -> job id on the next replica, wait on the job through the one after."""
        n = next(calls)
        job_id = operation(cluster[n % REPLICAS], *args)
        return cluster[(n + 1) % REPLICAS].wait_job(job_id)

    # Create: two calls on two replicas, each waited on through a third.
    def create(replica, count, name):
        body = CreatePostPaidServersRequestBody(server=replica.server_spec(name=name, count=count))
        resp = replica.ecs.create_post_paid_servers(CreatePostPaidServersRequest(body=body))
        assert resp.server_ids and len(resp.server_ids) == count, resp.server_ids
        created.extend(resp.server_ids)
        return resp.job_id

    created = []
    assert_job(accept_and_wait(create, 3, "web"), "createServer", "createSingleServer", created[:3])
    assert_job(accept_and_wait(create, 2, "db"), "createServer", "createSingleServer", created[3:])
    ids = sorted(created)
    assert len(set(ids)) == 5

    # List and show: every replica sees the whole fleet, in the same state.
    for replica in cluster:
        listed = list_servers(replica)
        assert listed.count == 5 and sorted(s.id for s in listed.servers) == ids
        assert sorted(s.name for s in listed.servers) == ["db-0000", "db-0001", "web-0000", "web-0001", "web-0002"]
    for n, sid in enumerate(ids):
        assert cluster[n % REPLICAS].show(sid).status == "ACTIVE"

    # Batch stop, start and reboot, each accepted by one replica and seen done on all.
    assert_job(accept_and_wait(stop, ids), "stopServer", "stopSingleServer", ids)
    for replica in cluster:
        assert_statuses(replica, ids, "SHUTOFF", "stopped", 4)

    # Resize one stopped server; the new flavor is seen through every replica.
    def resize(replica, sid, flavor):
        body = ResizePostPaidServerRequestBody(resize=ResizePostPaidServerOption(flavor_ref=flavor))
        return replica.ecs.resize_post_paid_server(ResizePostPaidServerRequest(server_id=sid, body=body)).job_id

    job = accept_and_wait(resize, ids[0], "s6.large.2")
    assert job.status == "SUCCESS" and job.job_type == "resizeServer", (job.error_code, job.fail_reason)
    assert {r.show(ids[0]).flavor.id for r in cluster} == {"s6.large.2"}

    assert_job(accept_and_wait(start, ids), "startServer", "startSingleServer", ids)
    for replica in cluster:
        assert_statuses(replica, ids, "ACTIVE", "active", 1)
    assert_job(accept_and_wait(reboot, ids), "rebootServer", "rebootSingleServer", ids)
    for replica in cluster:
        assert_statuses(replica, ids, "ACTIVE", "active", 1)

    # Delete: gone from every replica's list, and show answers 404 Ecs.0114 everywhere.
    assert_job(accept_and_wait(delete, ids), "deleteServer", "deleteSingleServer", ids)
    for replica in cluster:
        assert list_servers(replica).count == 0
        err = expect_client_error(replica.ecs.show_server, ShowServerRequest(server_id=ids[0]))
        assert (err.status_code, err.error_code) == (404, "Ecs.0114"), err.error_msg
