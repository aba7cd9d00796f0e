"""Issue 12, disks: EVS volumes through the official EVS SDK, and a server's disks through the ECS SDK
(AttachServerVolume, DetachServerVolume, the block device reads and update, the attachable quota, the
batch attach and detach of a shared disk), each answer checked against its SDK model."""

from __future__ import annotations

import time

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkecs.v2 import (
    AttachServerVolumeOption,
    AttachServerVolumeRequest,
    AttachServerVolumeRequestBody,
    BatchAttachSharableVolumesOption,
    BatchAttachSharableVolumesRequest,
    BatchAttachSharableVolumesRequestBody,
    BatchDetachVolumesRequest,
    CreatePostPaidServersRequest,
    CreatePostPaidServersRequestBody,
    DeleteServersRequest,
    DeleteServersRequestBody,
    DetachServerVolumeRequest,
    ListServerBlockDevicesRequest,
    ListServerVolumeAttachmentsRequest,
    PostPaidServerDataVolume,
    ShowAppendableVolumeQuotaRequest,
    ShowServerBlockDeviceRequest,
    UpdateServerBlockDeviceOption,
    UpdateServerBlockDeviceReq,
    UpdateServerBlockDeviceRequest,
    VolumeBatchDetachRequest,
)
from huaweicloudsdkevs.v2 import (
    CreateVolumeOption,
    CreateVolumeRequest,
    CreateVolumeRequestBody,
    DeleteVolumeRequest,
    EvsClient,
    ListVolumesRequest,
    OsExtend,
    ResizeVolumeRequest,
    ResizeVolumeRequestBody,
    ShowJobRequest,
    ShowVolumeRequest,
    UpdateVolumeOption,
    UpdateVolumeRequest,
    UpdateVolumeRequestBody,
)

from conftest import expect_client_error, server_ids
from model_check import assert_fits_model

ZONE = "eu-de-01"


def evs(ecsd) -> EvsClient:
    credentials = BasicCredentials(ecsd.ak, ecsd.sk, ecsd.project_id)
    return EvsClient.new_builder().with_credentials(credentials).with_endpoint(ecsd.endpoint).build()


def wait_evs_job(client: EvsClient, job_id: str):
    deadline = time.monotonic() + 10
    while True:
        job = client.show_job(ShowJobRequest(job_id=job_id))
        if job.status in ("SUCCESS", "FAIL"):
            return job
        assert job.status in ("INIT", "RUNNING"), job.status
        assert time.monotonic() < deadline, f"EVS job {job_id} did not finish"
        time.sleep(0.05)


def create_server_with_disks(ecsd, name: str, sizes: list) -> str:
    spec = ecsd.server_spec(name=name, flavor="s6.small.1")
    spec.data_volumes = [PostPaidServerDataVolume(volumetype="SAS", size=size) for size in sizes]
    resp = ecsd.ecs.create_post_paid_servers(
        CreatePostPaidServersRequest(body=CreatePostPaidServersRequestBody(server=spec))
    )
    assert ecsd.wait_job(resp.job_id).status == "SUCCESS"
    return resp.server_ids[0]


def block_devices(ecsd, server: str):
    return ecsd.ecs.list_server_block_devices(ListServerBlockDevicesRequest(server_id=server)).volume_attachments


def wait_ecs_job(ecsd, job_id: str) -> None:
    job = ecsd.wait_job(job_id)
    assert job.status == "SUCCESS", (job.error_code, job.fail_reason)


def test_a_servers_disks_through_detach_attach_and_delete(ecsd):
    client = evs(ecsd)
    server = create_server_with_disks(ecsd, "disks", [10, 20])
    devices = block_devices(ecsd, server)
    assert [(d.device, d.boot_index, d.size) for d in devices][1:] == [("/dev/vdb", 1, 10), ("/dev/vdc", 2, 20)]
    assert devices[0].device == "/dev/vda" and devices[0].boot_index == 0
    raw = ecsd.raw("GET", f"/v1/{{project_id}}/cloudservers/{server}/block_device")
    assert_fits_model(raw.json(), "ListServerBlockDevicesResponse")
    system, first, second = (d.volume_id for d in devices)

    # EVS shows every disk in use, attached to the server.
    shown = client.show_volume(ShowVolumeRequest(volume_id=first)).volume
    assert shown.status == "in-use" and shown.bootable == "false" and shown.size == 10
    assert [(a.server_id, a.device) for a in shown.attachments] == [(server, "/dev/vdb")]
    boot = client.show_volume(ShowVolumeRequest(volume_id=system)).volume
    assert boot.bootable == "true" and boot.volume_image_metadata["image_id"] == ecsd.discover().image_id
    raw = ecsd.raw("GET", f"/v2/{{project_id}}/cloudvolumes/{system}")
    assert_fits_model(raw.json(), "ShowVolumeResponse", sdk="huaweicloudsdkevs")
    listed = client.list_volumes(ListVolumesRequest(server_id=server))
    assert listed.count == 3

    # Detach one data disk: available, and gone from the server.
    job = ecsd.ecs.detach_server_volume(DetachServerVolumeRequest(server_id=server, volume_id=first))
    wait_ecs_job(ecsd, job.job_id)
    assert client.show_volume(ShowVolumeRequest(volume_id=first)).volume.status == "available"
    assert [d.volume_id for d in block_devices(ecsd, server)] == [system, second]

    # Attach it to another server.
    other = ecsd.create_servers(1, name="other", flavor="s6.small.1")[0]
    body = AttachServerVolumeRequestBody(volume_attachment=AttachServerVolumeOption(volume_id=first))
    job = ecsd.ecs.attach_server_volume(AttachServerVolumeRequest(server_id=other, body=body))
    wait_ecs_job(ecsd, job.job_id)
    attached = ecsd.ecs.show_server_block_device(ShowServerBlockDeviceRequest(server_id=other, volume_id=first))
    assert attached.volume_attachment.device == "/dev/vdb" and attached.volume_attachment.boot_index == 1
    raw = ecsd.raw("GET", f"/v1/{{project_id}}/cloudservers/{other}/block_device/{first}")
    assert_fits_model(raw.json(), "ShowServerBlockDeviceResponse")
    shown = client.show_volume(ShowVolumeRequest(volume_id=first)).volume
    assert shown.status == "in-use" and shown.attachments[0].server_id == other
    nova = ecsd.ecs.list_server_volume_attachments(ListServerVolumeAttachmentsRequest(server_id=other))
    assert [a.volume_id for a in nova.volume_attachments][1:] == [first]
    quota = ecsd.ecs.show_appendable_volume_quota(ShowAppendableVolumeQuotaRequest(server_id=other))
    assert quota.count == 58

    # An in-use disk that is not shared cannot go to a third server.
    body = AttachServerVolumeRequestBody(volume_attachment=AttachServerVolumeOption(volume_id=second))
    e = expect_client_error(ecsd.ecs.attach_server_volume, AttachServerVolumeRequest(server_id=other, body=body))
    assert (e.status_code, e.error_code) == (400, "Ecs.0103")

    # Delete the first server keeping its data disks: they are available, the system disk is gone.
    delete = DeleteServersRequestBody(servers=server_ids([server]), delete_volume=False)
    wait_ecs_job(ecsd, ecsd.ecs.delete_servers(DeleteServersRequest(body=delete)).job_id)
    assert client.show_volume(ShowVolumeRequest(volume_id=second)).volume.status == "available"
    e = expect_client_error(client.show_volume, ShowVolumeRequest(volume_id=system))
    assert (e.status_code, e.error_code) == (404, "EVS.5404")

    # A disk marked for deletion goes with its server.
    update = UpdateServerBlockDeviceReq(block_device=UpdateServerBlockDeviceOption(delete_on_termination=True))
    ecsd.ecs.update_server_block_device(UpdateServerBlockDeviceRequest(server_id=other, volume_id=first, body=update))
    wait_ecs_job(ecsd, ecsd.ecs.delete_servers(DeleteServersRequest(body=DeleteServersRequestBody(servers=server_ids([other])))).job_id)
    e = expect_client_error(client.show_volume, ShowVolumeRequest(volume_id=first))
    assert e.error_code == "EVS.5404"


def test_evs_disks_are_created_renamed_extended_and_deleted(ecsd):
    client = evs(ecsd)
    option = CreateVolumeOption(availability_zone=ZONE, volume_type="GPSSD", size=10, name="data", count=2)
    created = client.create_volume(CreateVolumeRequest(body=CreateVolumeRequestBody(volume=option)))
    assert len(created.volume_ids) == 2
    job = wait_evs_job(client, created.job_id)
    assert job.status == "SUCCESS" and job.job_type == "batchCreateVolume" and len(job.entities.sub_jobs) == 2
    raw = ecsd.raw("GET", f"/v1/{{project_id}}/jobs/{created.job_id}")
    assert_fits_model(raw.json(), "ShowJobResponse", sdk="huaweicloudsdkevs")
    first = created.volume_ids[0]
    listed = client.list_volumes(ListVolumesRequest(name="data-0001", status="available"))
    assert [v.id for v in listed.volumes] == [first]
    raw = ecsd.raw("GET", "/v2/{project_id}/cloudvolumes/detail")
    assert_fits_model(raw.json(), "ListVolumesResponse", sdk="huaweicloudsdkevs")

    renamed = client.update_volume(
        UpdateVolumeRequest(volume_id=first, body=UpdateVolumeRequestBody(volume=UpdateVolumeOption(name="renamed")))
    )
    assert renamed.name == "renamed" and renamed.id == first
    raw = ecsd.raw("PUT", f"/v2/{{project_id}}/cloudvolumes/{first}", {"volume": {"description": "d"}})
    assert_fits_model(raw.json(), "UpdateVolumeResponse", sdk="huaweicloudsdkevs")

    resized = client.resize_volume(
        ResizeVolumeRequest(volume_id=first, body=ResizeVolumeRequestBody(os_extend=OsExtend(new_size=30)))
    )
    job = wait_evs_job(client, resized.job_id)
    assert job.status == "SUCCESS" and job.entities.volume_id == first
    assert client.show_volume(ShowVolumeRequest(volume_id=first)).volume.size == 30
    e = expect_client_error(
        client.resize_volume,
        ResizeVolumeRequest(volume_id=first, body=ResizeVolumeRequestBody(os_extend=OsExtend(new_size=20))),
    )
    assert (e.status_code, e.error_code) == (400, "EVS.1015")

    deleted = client.delete_volume(DeleteVolumeRequest(volume_id=first))
    assert wait_evs_job(client, deleted.job_id).status == "SUCCESS"
    e = expect_client_error(client.show_volume, ShowVolumeRequest(volume_id=first))
    assert (e.status_code, e.error_code) == (404, "EVS.5404")
    bad = CreateVolumeOption(availability_zone=ZONE, volume_type="TAPE", size=10)
    e = expect_client_error(client.create_volume, CreateVolumeRequest(body=CreateVolumeRequestBody(volume=bad)))
    assert (e.status_code, e.error_code) == (400, "EVS.1020")


def test_a_shared_disk_goes_to_two_servers_in_one_job_and_leaves_them_in_another(ecsd):
    client = evs(ecsd)
    servers = ecsd.create_servers(2, name="pair", flavor="s6.small.1")
    option = CreateVolumeOption(availability_zone=ZONE, volume_type="SSD", size=10, multiattach=True)
    created = client.create_volume(CreateVolumeRequest(body=CreateVolumeRequestBody(volume=option)))
    wait_evs_job(client, created.job_id)
    shared = created.volume_ids[0]
    body = BatchAttachSharableVolumesRequestBody(
        serverinfo=[BatchAttachSharableVolumesOption(server_id=s) for s in servers]
    )
    job = ecsd.ecs.batch_attach_sharable_volumes(BatchAttachSharableVolumesRequest(volume_id=shared, body=body))
    wait_ecs_job(ecsd, job.job_id)
    shown = client.show_volume(ShowVolumeRequest(volume_id=shared)).volume
    assert shown.multiattach and shown.shareable == "true"
    assert sorted(a.server_id for a in shown.attachments) == sorted(servers)
    job = ecsd.ecs.batch_detach_volumes(
        BatchDetachVolumesRequest(volume_id=shared, body=VolumeBatchDetachRequest(serverinfo=servers))
    )
    wait_ecs_job(ecsd, job.job_id)
    assert client.show_volume(ShowVolumeRequest(volume_id=shared)).volume.status == "available"
