"""Issue 13: OS reinstall and change, cold migration and redeploy, driven by the official Python SDK
(ReinstallServerWithCloudInit, ReinstallServerWithoutCloudInit, ChangeServerOsWithCloudInit,
ChangeServerOsWithoutCloudInit, MigrateServer, ExecuteServerRedeploy)."""

from __future__ import annotations

from huaweicloudsdkecs.v2 import (
    BatchStopServersOption,
    BatchStopServersRequest,
    BatchStopServersRequestBody,
    ChangeServerOsWithCloudInitOption,
    ChangeServerOsWithCloudInitRequest,
    ChangeServerOsWithCloudInitRequestBody,
    ChangeServerOsWithoutCloudInitOption,
    ChangeServerOsWithoutCloudInitRequest,
    ChangeServerOsWithoutCloudInitRequestBody,
    ChangeSeversOsMetadata,
    CreatePostPaidServersRequest,
    CreatePostPaidServersRequestBody,
    CreateServerGroupOption,
    CreateServerGroupRequest,
    CreateServerGroupRequestBody,
    ExecuteServerRedeployRequest,
    MigrateServerOption,
    MigrateServerRequest,
    MigrateServerRequestBody,
    PostPaidServerSchedulerHints,
    ReinstallServerWithCloudInitOption,
    ReinstallServerWithCloudInitRequest,
    ReinstallServerWithCloudInitRequestBody,
    ReinstallServerWithoutCloudInitOption,
    ReinstallServerWithoutCloudInitRequest,
    ReinstallServerWithoutCloudInitRequestBody,
    ReinstallSeverMetadata,
    ShowResetPasswordFlagRequest,
)

from conftest import expect_client_error, server_ids
from model_check import assert_fits_model

CENTOS = "8f2a3c9e-5d1b-4c7a-9e0f-1a2b3c4d5e02"
PASSWORD = "Fleet-Rebuilt-2024"
THREE_HOSTS = """
[placement]
hosts_per_zone = 3
host_vcpus = 8
host_ram_mib = 16384
"""


def stop(ecsd, ids):
    body = BatchStopServersRequestBody(os_stop=BatchStopServersOption(servers=server_ids(ids), type="SOFT"))
    job = ecsd.wait_job(ecsd.ecs.batch_stop_servers(BatchStopServersRequest(body=body)).job_id)
    assert job.status == "SUCCESS", job


def password_pending(ecsd, server_id) -> bool:
    flag = ecsd.ecs.show_reset_password_flag(ShowResetPasswordFlagRequest(server_id=server_id))
    assert flag.resetpwd_flag == "True"
    return ecsd.raw("GET", f"/v1/{{project_id}}/cloudservers/{server_id}/os-resetpwd-flag").json()[
        "password_reset_pending"
    ]


def test_a_stopped_fleet_of_10_changes_onto_another_image_each_with_a_fresh_password(ecsd):
    fleet = ecsd.create_servers(10, name="fleet", flavor="s6.small.1")
    stop(ecsd, fleet)
    old_image = ecsd.show(fleet[0]).image.id
    assert old_image != CENTOS
    disks = {sid: ecsd.show(sid).os_extended_volumesvolumes_attached[0].id for sid in fleet}
    metadata = ChangeSeversOsMetadata(user_data="IyEvYmluL3NoCmVjaG8gcmVidWlsdAo=")
    jobs = []
    for sid in fleet:
        option = ChangeServerOsWithCloudInitOption(adminpass=PASSWORD, imageid=CENTOS, metadata=metadata)
        answer = ecsd.ecs.change_server_os_with_cloud_init(
            ChangeServerOsWithCloudInitRequest(
                server_id=sid, body=ChangeServerOsWithCloudInitRequestBody(os_change=option)
            )
        )
        jobs.append(answer.job_id)
    for job_id in jobs:
        job = ecsd.wait_job(job_id)
        assert (job.status, job.job_type) == ("SUCCESS", "changeServerOs"), job
    for sid in fleet:
        server = ecsd.show(sid)
        assert server.image.id == CENTOS
        assert server.metadata["image_name"] == "Standard_CentOS_7_latest"
        assert server.status == "SHUTOFF"
        assert server.os_extended_volumesvolumes_attached[0].id == disks[sid], "the system disk keeps its id"
        assert password_pending(ecsd, sid), "a fresh password waits for the new guest's first boot"

    # A reinstall onto the same image: the v1 form needs no login; the v2 one on a running server
    # without withStopServer is refused.
    reinstall = ReinstallServerWithoutCloudInitOption()
    job = ecsd.wait_job(
        ecsd.ecs.reinstall_server_without_cloud_init(
            ReinstallServerWithoutCloudInitRequest(
                server_id=fleet[0], body=ReinstallServerWithoutCloudInitRequestBody(os_reinstall=reinstall)
            )
        ).job_id
    )
    assert (job.status, job.job_type) == ("SUCCESS", "reinstallServer")
    assert ecsd.show(fleet[0]).image.id == CENTOS
    running = ecsd.create_servers(1, name="running", flavor="s6.small.1")[0]
    request = ReinstallServerWithCloudInitRequest(
        server_id=running,
        body=ReinstallServerWithCloudInitRequestBody(
            os_reinstall=ReinstallServerWithCloudInitOption(adminpass=PASSWORD)
        ),
    )
    e = expect_client_error(ecsd.ecs.reinstall_server_with_cloud_init, request)
    assert (e.status_code, e.error_code) == (400, "Ecs.0100")
    request.body.os_reinstall.mode = "withStopServer"
    request.body.os_reinstall.metadata = ReinstallSeverMetadata(system__encrypted="0")
    job = ecsd.wait_job(ecsd.ecs.reinstall_server_with_cloud_init(request).job_id)
    assert job.status == "SUCCESS"
    assert ecsd.show(running).status == "ACTIVE"
    answer = ecsd.raw(
        "POST",
        f"/v1/{{project_id}}/cloudservers/{running}/changeos",
        {"os-change": {"imageid": CENTOS, "mode": "withStopServer"}},
    )
    assert answer.status_code == 200
    assert_fits_model(answer.json(), "ChangeServerOsWithoutCloudInitResponse")
    option = ChangeServerOsWithoutCloudInitOption(imageid="no-such-image")
    e = expect_client_error(
        ecsd.ecs.change_server_os_without_cloud_init,
        ChangeServerOsWithoutCloudInitRequest(
            server_id=fleet[1], body=ChangeServerOsWithoutCloudInitRequestBody(os_change=option)
        ),
    )
    assert (e.status_code, e.error_code) == (400, "Ecs.0031")


def host(ecsd, server_id):
    return ecsd.show(server_id).os_ext_srv_att_rhost


def test_migrating_away_from_a_host_keeps_the_anti_affinity_group_apart(ecsd_with_config):
    ecsd = ecsd_with_config(THREE_HOSTS)
    group = ecsd.ecs.create_server_group(
        CreateServerGroupRequest(
            body=CreateServerGroupRequestBody(server_group=CreateServerGroupOption(name="aa", policies=["anti-affinity"]))
        )
    ).server_group
    spec = ecsd.server_spec(name="aa", flavor="s6.small.1", count=2)
    spec.availability_zone = "eu-de-01"
    spec.osscheduler_hints = PostPaidServerSchedulerHints(group=group.id)
    created = ecsd.ecs.create_post_paid_servers(
        CreatePostPaidServersRequest(body=CreatePostPaidServersRequestBody(server=spec))
    )
    assert ecsd.wait_job(created.job_id).status == "SUCCESS"
    members = list(created.server_ids)
    stop(ecsd, members)
    hosts = {m: host(ecsd, m) for m in members}

    onto_other = MigrateServerRequest(
        server_id=members[0],
        body=MigrateServerRequestBody(migrate=MigrateServerOption(dedicated_host_id=hosts[members[1]])),
    )
    e = expect_client_error(ecsd.ecs.migrate_server, onto_other)
    assert (e.status_code, e.error_code) == (400, "Ecs.0319")
    same = MigrateServerRequest(
        server_id=members[0],
        body=MigrateServerRequestBody(migrate=MigrateServerOption(dedicated_host_id=hosts[members[0]])),
    )
    e = expect_client_error(ecsd.ecs.migrate_server, same)
    assert (e.status_code, e.error_code) == (400, "Ecs.0221")

    away = MigrateServerRequest(server_id=members[0], body=MigrateServerRequestBody(migrate=MigrateServerOption()))
    answer = ecsd.ecs.migrate_server(away)
    job = ecsd.wait_job(answer.job_id)
    assert (job.status, job.job_type) == ("SUCCESS", "migrateServer"), job
    moved = host(ecsd, members[0])
    assert moved not in hosts.values(), (moved, hosts)
    assert len({host(ecsd, m) for m in members}) == 2, "the group still never shares a host"
    assert ecsd.show(members[0]).status == "SHUTOFF"

    # A redeploy moves a running server and starts it again; a member's goes to the one host
    # the group does not hold.
    redeployed = ecsd.create_servers(1, name="free", flavor="s6.small.1")[0]
    before = host(ecsd, redeployed)
    job = ecsd.wait_job(ecsd.ecs.execute_server_redeploy(ExecuteServerRedeployRequest(server_id=redeployed)).job_id)
    assert (job.status, job.job_type) == ("SUCCESS", "redeployServer")
    assert host(ecsd, redeployed) != before
    assert ecsd.show(redeployed).status == "ACTIVE"
    job = ecsd.wait_job(ecsd.ecs.execute_server_redeploy(ExecuteServerRedeployRequest(server_id=members[1])).job_id)
    assert job.status == "SUCCESS"
    assert host(ecsd, members[1]) == hosts[members[0]], "the only host neither member is on"
    assert len({host(ecsd, m) for m in members}) == 2
