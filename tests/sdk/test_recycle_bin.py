"""Issue 13: the recycle bin, driven by the official Python SDK (ShowRecycleBin, UpdateRecycleBin,
UpdateRecycleBinPolicy, ListRecycleBinServers, RevertRecycleBinServer, DeleteRecycleBinServer):
delete -> list -> revert, and the server is back with its disks and tags."""

from __future__ import annotations

from huaweicloudsdkecs.v2 import (
    CreatePostPaidServersRequest,
    CreatePostPaidServersRequestBody,
    DeleteRecycleBinServerRequest,
    DeleteServersRequest,
    DeleteServersRequestBody,
    ListRecycleBinServersRequest,
    ListServersDetailsRequest,
    PostPaidServerDataVolume,
    RevertRecycleBinServerRequest,
    ShowRecycleBinRequest,
    UpdateRecycleBinOption,
    UpdateRecycleBinPolicyOption,
    UpdateRecycleBinPolicyReq,
    UpdateRecycleBinPolicyRequest,
    UpdateRecycleBinReq,
    UpdateRecycleBinRequest,
)

from conftest import expect_client_error, server_ids


def advance(ecsd, seconds: float) -> None:
    r = ecsd.raw("POST", "/_ecsd/clock/advance", {"seconds": seconds})
    assert r.status_code == 200, r.text


def test_a_deleted_server_waits_in_the_bin_and_comes_back_with_its_disks_and_tags(ecsd):
    shown = ecsd.ecs.show_recycle_bin(ShowRecycleBinRequest())
    assert (shown.switch, shown.policy.retention_hour, shown.policy.recycle_threshold_day) == ("off", 168, 7)
    ecsd.ecs.update_recycle_bin(
        UpdateRecycleBinRequest(body=UpdateRecycleBinReq(recycle_bin=UpdateRecycleBinOption(switch="on")))
    )
    policy = UpdateRecycleBinPolicyOption(retention_hour=2, recycle_threshold_day=1)
    ecsd.ecs.update_recycle_bin_policy(UpdateRecycleBinPolicyRequest(body=UpdateRecycleBinPolicyReq(policy=policy)))
    shown = ecsd.ecs.show_recycle_bin(ShowRecycleBinRequest())
    assert (shown.project_id, shown.switch, shown.policy.retention_hour) == (ecsd.project_id, "on", 2)

    spec = ecsd.server_spec(name="binned", flavor="s6.small.1", count=2, tags={"env": "prod"})
    spec.data_volumes = [PostPaidServerDataVolume(volumetype="SSD", size=20)]
    created = ecsd.ecs.create_post_paid_servers(
        CreatePostPaidServersRequest(body=CreatePostPaidServersRequestBody(server=spec))
    )
    assert ecsd.wait_job(created.job_id).status == "SUCCESS"
    ids = list(created.server_ids)
    before = {sid: ecsd.show(sid) for sid in ids}
    advance(ecsd, 86_400)

    job = ecsd.wait_job(
        ecsd.ecs.delete_servers(DeleteServersRequest(body=DeleteServersRequestBody(servers=server_ids(ids)))).job_id
    )
    assert job.status == "SUCCESS"
    listed = ecsd.ecs.list_recycle_bin_servers(ListRecycleBinServersRequest()).servers
    assert sorted(s.id for s in listed) == sorted(ids)
    assert {s.status for s in listed} == {"SOFT_DELETED"}
    assert ecsd.ecs.list_servers_details(ListServersDetailsRequest()).count == 0

    job = ecsd.wait_job(ecsd.ecs.revert_recycle_bin_server(RevertRecycleBinServerRequest(server_id=ids[0])).job_id)
    assert job.status == "SUCCESS"
    back = ecsd.show(ids[0])
    assert back.status == "SHUTOFF"
    volumes = lambda s: sorted(v.id for v in s.os_extended_volumesvolumes_attached)  # noqa: E731
    assert volumes(back) == volumes(before[ids[0]]) and len(volumes(back)) == 2, "system and data disk"
    assert back.tags == before[ids[0]].tags == ["env=prod"]
    e = expect_client_error(ecsd.ecs.revert_recycle_bin_server, RevertRecycleBinServerRequest(server_id=ids[0]))
    assert (e.status_code, e.error_code) == (400, "Ecs.0100")

    # The other one: deleted for good once its two hours are over on ecsd's clock.
    assert [s.id for s in ecsd.ecs.list_recycle_bin_servers(ListRecycleBinServersRequest()).servers] == [ids[1]]
    advance(ecsd, 2 * 3600)
    ecsd.raw("POST", "/_ecsd/clock/settle")
    assert ecsd.ecs.list_recycle_bin_servers(ListRecycleBinServersRequest()).servers == []
    e = expect_client_error(ecsd.show, ids[1])
    assert (e.status_code, e.error_code) == (404, "Ecs.0114")
    e = expect_client_error(ecsd.ecs.delete_recycle_bin_server, DeleteRecycleBinServerRequest(server_id=ids[0]))
    assert (e.status_code, e.error_code) == (400, "Ecs.0100")
