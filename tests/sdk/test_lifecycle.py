"""Issue 2: the server lifecycle and job-based batches, driven by the official Python SDK.

Contract: ../shared/spec/ECS_API.md sections 1, 2.5, 3, 4 (T1.1-T1.3, T1.7-T1.15, T1.17), 5, 6, 9.
"""

from __future__ import annotations

import ipaddress
import re
import time
import uuid

import pytest

from huaweicloudsdkecs.v2 import (
    BatchRebootServersRequest,
    BatchRebootServersRequestBody,
    BatchRebootSeversOption,
    BatchStartServersOption,
    BatchStartServersRequest,
    BatchStartServersRequestBody,
    BatchStopServersOption,
    BatchStopServersRequest,
    BatchStopServersRequestBody,
    CreatePostPaidServersRequest,
    CreatePostPaidServersRequestBody,
    CreateServersRequest,
    CreateServersRequestBody,
    DeleteServersRequest,
    DeleteServersRequestBody,
    ListFlavorsRequest,
    ListResizeFlavorsRequest,
    ListServerAzInfoRequest,
    ListServersDetailsRequest,
    PostPaidServerDataVolume,
    PrePaidServer,
    PrePaidServerExtendParam,
    PrePaidServerNic,
    PrePaidServerRootVolume,
    ShowJobRequest,
    ShowServerLimitsRequest,
    ShowServerRequest,
    UpdateServerOption,
    UpdateServerRequest,
    UpdateServerRequestBody,
)
from huaweicloudsdkims.v2 import ListImagesRequest
from huaweicloudsdkvpc.v2 import ListSubnetsRequest, ListVpcsRequest

from conftest import TEAM_B_PROJECT, expect_client_error, server_ids, two_projects

SEEDED_FLAVORS = {
    "s6.small.1", "s6.medium.2", "s6.large.2", "s6.xlarge.2",
    "c6.large.2", "c6.xlarge.4", "m6.large.8", "m6.xlarge.8",
}
JOB_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")  # 2016-04-25T20:04:34.604Z
SERVER_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")  # 2019-05-22T03:19:19Z
LAUNCH_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$")  # 2019-05-22T03:23:59.000000
CREATE_TASK_STATES = {None, "scheduling", "block_device_mapping", "networking", "spawning"}


# ------------------------------------------------------------------ helpers


def stop(ecsd, ids, kind="SOFT"):
    body = BatchStopServersRequestBody(os_stop=BatchStopServersOption(servers=server_ids(ids), type=kind))
    return ecsd.ecs.batch_stop_servers(BatchStopServersRequest(body=body)).job_id


def start(ecsd, ids):
    body = BatchStartServersRequestBody(os_start=BatchStartServersOption(servers=server_ids(ids)))
    return ecsd.ecs.batch_start_servers(BatchStartServersRequest(body=body)).job_id


def reboot(ecsd, ids, kind="SOFT"):
    body = BatchRebootServersRequestBody(reboot=BatchRebootSeversOption(servers=server_ids(ids), type=kind))
    return ecsd.ecs.batch_reboot_servers(BatchRebootServersRequest(body=body)).job_id


def delete(ecsd, ids):
    body = DeleteServersRequestBody(servers=server_ids(ids), delete_publicip=False, delete_volume=True)
    return ecsd.ecs.delete_servers(DeleteServersRequest(body=body)).job_id


def list_servers(ecsd, **query):
    return ecsd.ecs.list_servers_details(ListServersDetailsRequest(**query))


def limits(ecsd):
    return ecsd.ecs.show_server_limits(ShowServerLimitsRequest()).absolute


def flavors_by_id(ecsd):
    return {f.id: f for f in ecsd.ecs.list_flavors(ListFlavorsRequest()).flavors}


def assert_job(job, parent_type, sub_type, ids, status="SUCCESS"):
    assert job.status == status, f"job {job.job_id}: {job.status} {job.error_code} {job.fail_reason}"
    assert job.job_type == parent_type
    assert job.entities.sub_jobs_total == len(ids)
    subs = job.entities.sub_jobs
    assert len(subs) == len(ids)
    assert {s.entities.server_id for s in subs} == set(ids)
    for s in subs:
        assert s.job_type == sub_type
        assert s.job_id and s.job_id != job.job_id
        assert JOB_TIME.match(s.begin_time or ""), s.begin_time
        assert JOB_TIME.match(s.end_time or ""), s.end_time
    assert JOB_TIME.match(job.begin_time or ""), job.begin_time
    assert JOB_TIME.match(job.end_time or ""), job.end_time
    if status == "SUCCESS":
        assert job.error_code is None and job.fail_reason is None
        assert all(s.status == "SUCCESS" and s.error_code is None for s in subs)


def assert_statuses(ecsd, ids, status, vm_state, power_state):
    for sid in ids:
        s = ecsd.show(sid)
        assert (s.status, s.os_ext_st_svm_state, s.os_ext_st_stask_state, s.os_ext_st_spower_state) == (
            status, vm_state, None, power_state,
        ), f"server {sid}"


# ------------------------------------------------------------------ discovery and create


def test_automation_finds_public_images_a_vpc_and_its_subnet_through_the_ims_and_vpc_sdks(ecsd):
    images = ecsd.ims.list_images(ListImagesRequest(imagetype="gold")).images
    public = [i for i in images if i.visibility == "public" and i.status == "active"]
    assert len(public) >= 3, [(i.id, i.name, i.status, i.visibility) for i in images]
    for i in public:
        assert i.id and i.name and i.imagetype == "gold"
        assert i.os_type in ("Linux", "Windows")
        assert isinstance(i.min_disk, int) and i.min_disk >= 0

    vpcs = ecsd.vpc.list_vpcs(ListVpcsRequest()).vpcs
    assert vpcs and all(v.id and v.name and v.cidr and v.status == "OK" for v in vpcs)
    subnets = ecsd.vpc.list_subnets(ListSubnetsRequest(vpc_id=vpcs[0].id)).subnets
    assert subnets, "the default VPC has no subnet"
    for sn in subnets:
        assert sn.vpc_id == vpcs[0].id
        net = ipaddress.ip_network(sn.cidr)
        assert ipaddress.ip_address(sn.gateway_ip) in net
        assert ipaddress.ip_network(sn.cidr).subnet_of(ipaddress.ip_network(vpcs[0].cidr))
        assert sn.status == "ACTIVE"


def test_creating_three_servers_returns_a_job_and_three_ids_and_the_job_succeeds_with_three_create_sub_jobs(ecsd):
    spec = ecsd.server_spec(name="web", count=3, metadata={"env": "e2e"}, tags={"team": "sdk"})
    resp = ecsd.ecs.create_post_paid_servers(
        CreatePostPaidServersRequest(body=CreatePostPaidServersRequestBody(server=spec))
    )
    assert resp.status_code == 200
    assert re.fullmatch(r"[0-9a-f]{32}", resp.job_id), resp.job_id
    assert len(resp.server_ids) == 3 and len(set(resp.server_ids)) == 3
    for sid in resp.server_ids:
        uuid.UUID(sid)

    job = ecsd.wait_job(resp.job_id)
    assert_job(job, "createServer", "createSingleServer", resp.server_ids)
    assert_statuses(ecsd, resp.server_ids, "ACTIVE", "active", 1)


def test_a_sub_job_id_can_be_queried_on_its_own_with_a_flat_server_id(ecsd):
    resp = ecsd.ecs.create_post_paid_servers(
        CreatePostPaidServersRequest(body=CreatePostPaidServersRequestBody(server=ecsd.server_spec(count=2)))
    )
    job = ecsd.wait_job(resp.job_id)
    sub = job.entities.sub_jobs[0]
    single = ecsd.ecs.show_job(ShowJobRequest(job_id=sub.job_id))
    assert single.job_id == sub.job_id
    assert single.job_type == "createSingleServer"
    assert single.status == "SUCCESS"
    assert single.entities.server_id == sub.entities.server_id


def test_the_v1_1_create_api_also_creates_servers_and_answers_job_and_server_ids(ecsd):
    cat = ecsd.discover()
    spec = PrePaidServer(
        name="v11",
        flavor_ref="s6.small.1",
        image_ref=cat.image_id,
        vpcid=cat.vpc_id,
        nics=[PrePaidServerNic(subnet_id=cat.subnet_id)],
        root_volume=PrePaidServerRootVolume(volumetype="SSD", size=max(40, cat.image_min_disk)),
        count=2,
    )
    resp = ecsd.ecs.create_servers(CreateServersRequest(body=CreateServersRequestBody(server=spec)))
    assert resp.job_id and len(resp.server_ids) == 2
    assert resp.order_id is None, "pay-per-use create must not answer an order_id"
    job = ecsd.wait_job(resp.job_id)
    assert_job(job, "createServer", "createSingleServer", resp.server_ids)
    assert sorted(ecsd.show(i).name for i in resp.server_ids) == ["v11-0000", "v11-0001"]


def test_a_yearly_monthly_v1_1_create_is_refused_with_ecs_0005_and_creates_nothing(ecsd):
    # Contract T1.9 [INF]: ecsd is pay-per-use only; docs/behaviour.md chose refusal over silent pay-per-use.

    cat = ecsd.discover()
    spec = PrePaidServer(
        name="prepaid",
        flavor_ref="s6.small.1",
        image_ref=cat.image_id,
        vpcid=cat.vpc_id,
        nics=[PrePaidServerNic(subnet_id=cat.subnet_id)],
        root_volume=PrePaidServerRootVolume(volumetype="SSD"),
        extendparam=PrePaidServerExtendParam(charging_mode="prePaid", period_type="month", period_num=1),
    )
    err = expect_client_error(ecsd.ecs.create_servers, CreateServersRequest(body=CreateServersRequestBody(server=spec)))
    assert (err.status_code, err.error_code) == (400, "Ecs.0005")
    assert list_servers(ecsd).count == 0


def test_a_dry_run_create_answers_202_and_creates_nothing(ecsd):
    resp = ecsd.ecs.create_post_paid_servers(
        CreatePostPaidServersRequest(
            body=CreatePostPaidServersRequestBody(server=ecsd.server_spec(count=2), dry_run=True)
        )
    )
    assert resp.status_code == 202
    assert not resp.job_id
    assert list_servers(ecsd).count == 0
    assert limits(ecsd).total_instances_used == 0


@pytest.mark.parametrize(
    "field, value, code",
    [
        ("flavor_ref", "s6.gigantic.99", "Ecs.0029"),  # 6.3: flavor does not exist
        ("image_ref", "00000000-0000-4000-8000-000000000000", "Ecs.0031"),  # 6.3: image does not exist
        ("subnet_id", "00000000-0000-4000-8000-000000000001", "Ecs.0038"),  # 6.3: subnet does not exist
    ],
)
def test_a_create_that_references_an_unknown_catalogue_item_is_refused_with_its_documented_code(
    ecsd, field, value, code
):
    spec = ecsd.server_spec(count=1)
    if field == "subnet_id":
        spec.nics[0].subnet_id = value
    else:
        setattr(spec, field, value)
    err = expect_client_error(
        ecsd.ecs.create_post_paid_servers,
        CreatePostPaidServersRequest(body=CreatePostPaidServersRequestBody(server=spec)),
    )
    assert (err.status_code, err.error_code) == (400, code), err.error_msg
    assert err.request_id, "error responses must carry X-Request-Id"
    assert list_servers(ecsd).count == 0


def test_a_create_of_more_than_100_servers_is_refused_with_ecs_0913(ecsd):
    err = expect_client_error(
        ecsd.ecs.create_post_paid_servers,
        CreatePostPaidServersRequest(body=CreatePostPaidServersRequestBody(server=ecsd.server_spec(count=101))),
    )
    assert (err.status_code, err.error_code) == (400, "Ecs.0913"), err.error_msg
    assert list_servers(ecsd).count == 0


def test_a_create_retried_with_the_same_client_token_returns_the_first_result_and_creates_nothing_more(ecsd):
    token = str(uuid.uuid4())

    def create(count):
        return ecsd.ecs.create_post_paid_servers(
            CreatePostPaidServersRequest(
                x_client_token=token,
                body=CreatePostPaidServersRequestBody(server=ecsd.server_spec(name="idem", count=count)),
            )
        )

    first = create(2)
    again = create(2)
    assert (again.job_id, again.server_ids) == (first.job_id, first.server_ids)
    assert ecsd.wait_job(first.job_id).status == "SUCCESS"
    assert list_servers(ecsd).count == 2

    err = expect_client_error(create, 3)  # same token, different parameters
    assert (err.status_code, err.error_code) == (400, "Ecs.0122"), err.error_msg
    assert list_servers(ecsd).count == 2


def test_a_create_with_a_client_token_that_is_not_a_uuid_is_refused_with_ecs_0123(ecsd):
    err = expect_client_error(
        ecsd.ecs.create_post_paid_servers,
        CreatePostPaidServersRequest(
            x_client_token="not-a-uuid",
            body=CreatePostPaidServersRequestBody(server=ecsd.server_spec(count=1)),
        ),
    )
    assert (err.status_code, err.error_code) == (400, "Ecs.0123"), err.error_msg
    assert list_servers(ecsd).count == 0


def test_servers_are_created_in_the_availability_zone_asked_for_or_spread_over_zones_on_request(ecsd):

    zones = [z.availability_zone_id for z in ecsd.ecs.list_server_az_info(ListServerAzInfoRequest()).availability_zones]
    assert len(zones) >= 2, zones

    spec = ecsd.server_spec(name="zoned", count=1)
    spec.availability_zone = zones[1]
    resp = ecsd.ecs.create_post_paid_servers(
        CreatePostPaidServersRequest(body=CreatePostPaidServersRequestBody(server=spec))
    )
    assert ecsd.wait_job(resp.job_id).status == "SUCCESS"
    assert ecsd.show(resp.server_ids[0]).os_ext_a_zavailability_zone == zones[1]

    spec = ecsd.server_spec(name="spread", count=len(zones))
    spec.batch_create_in_multi_az = True
    resp = ecsd.ecs.create_post_paid_servers(
        CreatePostPaidServersRequest(body=CreatePostPaidServersRequestBody(server=spec))
    )
    assert ecsd.wait_job(resp.job_id).status == "SUCCESS"
    used = {ecsd.show(i).os_ext_a_zavailability_zone for i in resp.server_ids}
    assert len(used) > 1 and used <= set(zones), used

    spec = ecsd.server_spec(name="nowhere", count=1)
    spec.availability_zone = "no-such-zone-9"
    err = expect_client_error(
        ecsd.ecs.create_post_paid_servers,
        CreatePostPaidServersRequest(body=CreatePostPaidServersRequestBody(server=spec)),
    )
    assert err.status_code == 400 and err.error_code.startswith("Ecs."), (err.status_code, err.error_code)


def test_data_volumes_given_at_create_are_attached_beside_the_system_disk(ecsd):

    spec = ecsd.server_spec(name="disks", count=1)
    spec.data_volumes = [
        PostPaidServerDataVolume(volumetype="SSD", size=20),
        PostPaidServerDataVolume(volumetype="SAS", size=30),
    ]
    resp = ecsd.ecs.create_post_paid_servers(
        CreatePostPaidServersRequest(body=CreatePostPaidServersRequestBody(server=spec))
    )
    assert ecsd.wait_job(resp.job_id).status == "SUCCESS"
    vols = ecsd.show(resp.server_ids[0]).os_extended_volumesvolumes_attached
    assert len(vols) == 3, vols
    assert [v.boot_index for v in vols].count("0") == 1
    assert len({v.id for v in vols}) == 3 and len({v.device for v in vols}) == 3

    spec.data_volumes = [PostPaidServerDataVolume(volumetype="NO-SUCH-TYPE", size=20)]
    err = expect_client_error(
        ecsd.ecs.create_post_paid_servers,
        CreatePostPaidServersRequest(body=CreatePostPaidServersRequestBody(server=spec)),
    )
    assert (err.status_code, err.error_code) == (400, "Ecs.0043")  # 6.3: disk type does not exist


# ------------------------------------------------------------------ list and show


def test_created_servers_are_listed_with_numbered_names_a_total_count_and_working_filters(ecsd):
    ids = ecsd.create_servers(count=3, name="web")
    other = ecsd.create_servers(count=1, name="db", flavor="s6.small.1")

    everything = list_servers(ecsd)
    assert everything.count == 4
    by_id = {s.id: s for s in everything.servers}
    assert set(by_id) == set(ids) | set(other)
    assert sorted(by_id[i].name for i in ids) == ["web-0000", "web-0001", "web-0002"]
    assert by_id[other[0]].name == "db", "a single server keeps its name without a suffix"

    web = list_servers(ecsd, name="web")
    assert web.count == 3 and {s.id for s in web.servers} == set(ids)
    assert list_servers(ecsd, flavor="s6.small.1").count == 1
    assert list_servers(ecsd, status="ACTIVE").count == 4
    assert list_servers(ecsd, status="SHUTOFF").count == 0

    # offset is a page number (1-based), limit a page size; count is the total, not the page size.
    page1 = list_servers(ecsd, limit=3, offset=1)
    page2 = list_servers(ecsd, limit=3, offset=2)
    assert (page1.count, len(page1.servers)) == (4, 3)
    assert (page2.count, len(page2.servers)) == (4, 1)
    assert {s.id for s in page1.servers} | {s.id for s in page2.servers} == set(by_id)
    assert len(list_servers(ecsd, limit=3, offset=0).servers) == 3, "offset 0 behaves like 1"

    ip = next(a.addr for addrs in by_id[ids[0]].addresses.values() for a in addrs)
    found = list_servers(ecsd, ip=ip).servers
    assert ids[0] in {s.id for s in found}
    for s in found:  # ip is a fuzzy match on the private IPv4
        assert any(ip in a.addr for addrs in s.addresses.values() for a in addrs)


def test_the_list_filters_by_tag_and_by_server_id(ecsd):
    prod = ecsd.create_servers(count=2, name="prod", tags={"env": "prod"})
    dev = ecsd.create_servers(count=1, name="dev", tags={"env": "dev"})

    tagged = list_servers(ecsd, tags="env=prod")
    assert tagged.count == 2 and {s.id for s in tagged.servers} == set(prod)

    # server_id: exact ids, comma-separated; every other filter is then ignored (T1.10).
    picked = list_servers(ecsd, server_id=f"{prod[0]},{dev[0]}", status="SHUTOFF")
    assert {s.id for s in picked.servers} == {prod[0], dev[0]}


def test_listing_an_unknown_server_id_yields_an_entry_with_only_id_and_fault(ecsd):
    # T1.10 [SDK]: "an unknown id yields an entry with only `id` and `fault` non-null".
    (known,) = ecsd.create_servers(count=1)
    unknown = str(uuid.uuid4())
    r = ecsd.raw("GET", "/v1/{project_id}/cloudservers/detail", query=[("server_id", f"{known},{unknown}")])
    assert r.status_code == 200, r.text
    entries = {s["id"]: s for s in r.json()["servers"]}
    assert set(entries) == {known, unknown}, sorted(entries)
    ghost = entries[unknown]
    assert ghost.get("fault"), ghost
    assert all(v is None for k, v in ghost.items() if k not in ("id", "fault")), ghost
    assert entries[known]["fault"] is None


def test_show_server_reports_status_flavor_image_private_ip_system_disk_metadata_and_tags(ecsd):
    cat = ecsd.discover()
    ids = ecsd.create_servers(count=3, name="web", metadata={"env": "e2e"}, tags={"team": "sdk"})
    flavor = flavors_by_id(ecsd)["s6.medium.2"]
    subnet = ipaddress.ip_network(cat.subnet_cidr)

    ips, launch_indexes, reservations = set(), set(), set()
    for sid in ids:
        s = ecsd.show(sid)
        assert s.id == sid
        assert (s.status, s.os_ext_st_svm_state, s.os_ext_st_stask_state, s.os_ext_st_spower_state) == (
            "ACTIVE", "active", None, 1,
        )
        assert s.flavor.id == "s6.medium.2"
        assert (s.flavor.vcpus, s.flavor.ram) == (str(flavor.vcpus), str(flavor.ram))
        assert s.image.id == cat.image_id
        assert s.tenant_id == ecsd.project_id
        assert s.os_ext_a_zavailability_zone
        assert s.metadata.get("env") == "e2e"
        assert "team=sdk" in (s.tags or [])
        assert s.locked is False
        assert s.fault is None

        # addresses: one network (the VPC), one fixed IPv4 from the subnet.
        assert len(s.addresses) == 1
        (net_id, addrs), = s.addresses.items()
        assert net_id in {cat.vpc_id, cat.subnet_network_id}, net_id
        fixed = [a for a in addrs if a.os_ext_ip_stype == "fixed"]
        assert len(fixed) == 1
        assert fixed[0].version == "4"
        assert ipaddress.ip_address(fixed[0].addr) in subnet
        assert fixed[0].os_ext_ips_ma_cmac_addr and fixed[0].os_ext_ip_sport_id
        ips.add(fixed[0].addr)

        vols = s.os_extended_volumesvolumes_attached
        system = [v for v in vols if v.boot_index == "0"]
        assert len(system) == 1 and system[0].id and system[0].device

        launch_indexes.add(s.os_ext_srv_att_rlaunch_index)
        reservations.add(s.os_ext_srv_att_rreservation_id)
    assert len(ips) == 3, "each server gets its own private IP"
    assert launch_indexes == {0, 1, 2}
    assert len(reservations) == 1 and reservations != {None}, "servers created together share a reservation id"


def test_show_server_uses_the_documented_wire_names_and_types(ecsd):
    (sid,) = ecsd.create_servers(count=1)
    s = ecsd.show_raw(sid)
    for key in (
        "id", "name", "status", "OS-EXT-STS:vm_state", "OS-EXT-STS:task_state", "OS-EXT-STS:power_state",
        "flavor", "image", "addresses", "created", "updated", "OS-SRV-USG:launched_at",
        "OS-EXT-AZ:availability_zone", "OS-EXT-SRV-ATTR:instance_name", "OS-EXT-SRV-ATTR:hostname",
        "OS-EXT-SRV-ATTR:reservation_id", "OS-EXT-SRV-ATTR:launch_index", "os-extended-volumes:volumes_attached",
        "metadata", "tags", "security_groups", "locked", "tenant_id", "user_id", "hostId", "progress",
    ):
        assert key in s, f"missing {key}"
    assert s["OS-EXT-STS:task_state"] is None
    assert isinstance(s["OS-EXT-STS:power_state"], int)
    assert isinstance(s["OS-EXT-SRV-ATTR:launch_index"], int)
    assert isinstance(s["progress"], int)
    assert all(isinstance(s["flavor"][k], str) for k in ("id", "vcpus", "ram", "disk")), s["flavor"]
    for addrs in s["addresses"].values():
        for a in addrs:
            assert a["version"] == "4" and a["OS-EXT-IPS:type"] in ("fixed", "floating")
    for v in s["os-extended-volumes:volumes_attached"]:
        assert isinstance(v["bootIndex"], str) and isinstance(v["delete_on_termination"], str)
    assert SERVER_TIME.match(s["created"]) and SERVER_TIME.match(s["updated"]), (s["created"], s["updated"])
    assert LAUNCH_TIME.match(s["OS-SRV-USG:launched_at"]), s["OS-SRV-USG:launched_at"]


def test_update_server_renames_it_and_show_and_list_see_the_new_name(ecsd):
    (sid,) = ecsd.create_servers(count=1, name="before")
    resp = ecsd.ecs.update_server(
        UpdateServerRequest(
            server_id=sid,
            body=UpdateServerRequestBody(server=UpdateServerOption(name="after-rename", description="web tier")),
        )
    )
    assert resp.server.id == sid
    assert resp.server.name == "after-rename"
    assert resp.server.description == "web tier"
    s = ecsd.show(sid)
    assert (s.name, s.description) == ("after-rename", "web tier")
    assert [x.id for x in list_servers(ecsd, name="after-rename").servers] == [sid]


def test_update_of_an_unknown_server_answers_404_ecs_0114(ecsd):
    err = expect_client_error(
        ecsd.ecs.update_server,
        UpdateServerRequest(
            server_id=str(uuid.uuid4()),
            body=UpdateServerRequestBody(server=UpdateServerOption(name="x")),
        ),
    )
    assert (err.status_code, err.error_code) == (404, "Ecs.0114")


# ------------------------------------------------------------------ flavors and limits


def test_the_flavor_list_has_the_seeded_flavors_with_extra_specs_and_documented_types(ecsd):
    flavors = flavors_by_id(ecsd)
    assert SEEDED_FLAVORS <= set(flavors), sorted(flavors)
    for fid in SEEDED_FLAVORS:
        f = flavors[fid]
        assert f.name == fid
        assert int(f.vcpus) >= 1 and f.ram >= 1024
        assert f.os_extra_specs and f.os_extra_specs.ecsperformancetype, f"{fid}: os_extra_specs lacks ecs:performancetype"
    raw = ecsd.raw("GET", "/v1/{project_id}/cloudservers/flavors").json()["flavors"]
    one = next(f for f in raw if f["id"] == "s6.medium.2")
    assert isinstance(one["vcpus"], str) and isinstance(one["ram"], int) and isinstance(one["disk"], str)
    assert isinstance(one["os_extra_specs"], dict)


def test_resize_flavors_can_be_asked_by_source_flavor_or_by_server_and_agree(ecsd):
    (sid,) = ecsd.create_servers(count=1, flavor="s6.medium.2")
    by_flavor = ecsd.ecs.list_resize_flavors(ListResizeFlavorsRequest(source_flavor_id="s6.medium.2")).flavors
    assert by_flavor, "no resize target for s6.medium.2"
    for f in by_flavor:
        assert f.id and f.name and int(f.vcpus) >= 1 and f.ram >= 1024
        assert f.extra_specs is not None, f"{f.id}: no extra_specs"
    assert {f.id for f in by_flavor} <= set(flavors_by_id(ecsd))
    by_server = ecsd.ecs.list_resize_flavors(ListResizeFlavorsRequest(instance_uuid=sid)).flavors
    assert {f.id for f in by_server} == {f.id for f in by_flavor}
    raw = ecsd.raw("GET", "/v1/{project_id}/cloudservers/resize_flavors", query=[("source_flavor_id", "s6.medium.2")])
    assert "extra_specs" in raw.json()["flavors"][0] and isinstance(raw.json()["flavors"][0]["vcpus"], str)


def test_resize_flavors_without_a_source_is_refused_with_ecs_0005(ecsd):
    err = expect_client_error(ecsd.ecs.list_resize_flavors, ListResizeFlavorsRequest())
    assert (err.status_code, err.error_code) == (400, "Ecs.0005")


def test_limits_count_the_servers_cores_and_ram_in_use(ecsd):
    before = limits(ecsd)
    assert (before.total_instances_used, before.total_cores_used, before.total_ram_used) == (0, 0, 0)
    for v in (before.max_total_instances, before.max_total_cores, before.max_total_ram_size):
        assert v == -1 or v > 0
    flavor = flavors_by_id(ecsd)["s6.medium.2"]

    ids = ecsd.create_servers(count=3, flavor="s6.medium.2")
    after = limits(ecsd)
    assert after.total_instances_used == 3
    assert after.total_cores_used == 3 * int(flavor.vcpus)
    assert after.total_ram_used == 3 * flavor.ram

    job = ecsd.wait_job(delete(ecsd, ids))
    assert job.status == "SUCCESS"
    gone = limits(ecsd)
    assert (gone.total_instances_used, gone.total_cores_used, gone.total_ram_used) == (0, 0, 0)


# ------------------------------------------------------------------ batch start / stop / reboot / delete


def test_batch_stop_start_and_reboot_take_three_servers_to_shutoff_and_back_to_active(ecsd):
    ids = ecsd.create_servers(count=3)

    job = ecsd.wait_job(stop(ecsd, ids, "SOFT"))
    assert_job(job, "stopServer", "stopSingleServer", ids)
    assert_statuses(ecsd, ids, "SHUTOFF", "stopped", 4)
    assert list_servers(ecsd, status="SHUTOFF").count == 3

    job = ecsd.wait_job(start(ecsd, ids))
    assert_job(job, "startServer", "startSingleServer", ids)
    assert_statuses(ecsd, ids, "ACTIVE", "active", 1)

    job = ecsd.wait_job(reboot(ecsd, ids, "SOFT"))
    assert_job(job, "rebootServer", "rebootSingleServer", ids)
    assert_statuses(ecsd, ids, "ACTIVE", "active", 1)

    job = ecsd.wait_job(reboot(ecsd, ids, "HARD"))
    assert_job(job, "rebootServer", "rebootSingleServer", ids)
    assert_statuses(ecsd, ids, "ACTIVE", "active", 1)

    job = ecsd.wait_job(stop(ecsd, ids[:1], "HARD"))
    assert_job(job, "stopServer", "stopSingleServer", ids[:1])
    assert_statuses(ecsd, ids[:1], "SHUTOFF", "stopped", 4)


def test_stopping_an_already_stopped_server_fails_its_sub_job_with_ecs_0100_while_the_others_proceed(ecsd):
    stopped, running = ecsd.create_servers(count=2)
    assert ecsd.wait_job(stop(ecsd, [stopped])).status == "SUCCESS"

    job = ecsd.wait_job(stop(ecsd, [stopped, running]))
    assert job.status == "FAIL"
    assert job.error_code == "Ecs.0100", "the parent copies the first failed sub-job's code (contract 2.5)"
    assert job.fail_reason
    subs = {s.entities.server_id: s for s in job.entities.sub_jobs}
    assert subs[stopped].status == "FAIL" and subs[stopped].error_code == "Ecs.0100"
    assert subs[stopped].fail_reason or subs[stopped].entities.errorcode_message
    assert subs[running].status == "SUCCESS" and subs[running].error_code is None
    assert_statuses(ecsd, [stopped, running], "SHUTOFF", "stopped", 4)


def test_starting_a_running_server_fails_its_sub_job_with_ecs_0100(ecsd):
    (sid,) = ecsd.create_servers(count=1)
    job = ecsd.wait_job(start(ecsd, [sid]))
    assert job.status == "FAIL" and job.error_code == "Ecs.0100"
    (sub,) = job.entities.sub_jobs
    assert (sub.status, sub.error_code) == ("FAIL", "Ecs.0100")
    assert_statuses(ecsd, [sid], "ACTIVE", "active", 1)


def test_a_batch_stop_naming_an_unknown_server_is_refused_with_404_ecs_0114_and_starts_no_job(ecsd):
    (sid,) = ecsd.create_servers(count=1)
    unknown = str(uuid.uuid4())
    err = expect_client_error(stop, ecsd, [sid, unknown])
    assert (err.status_code, err.error_code) == (404, "Ecs.0114"), err.error_msg

    raw = ecsd.raw(
        "POST", "/v1/{project_id}/cloudservers/action",
        {"os-stop": {"type": "SOFT", "servers": [{"id": sid}, {"id": unknown}]}},
    )
    assert raw.status_code == 404
    body = raw.json()
    assert "job_id" not in body and body["error"]["code"] == "Ecs.0114"
    time.sleep(0.2)  # instant timings: a job, had one been started, would have finished by now
    assert_statuses(ecsd, [sid], "ACTIVE", "active", 1)


@pytest.mark.parametrize(
    "body, code",
    [
        ({"os-stop": {"type": "SOFT", "servers": []}}, "Ecs.0005"),  # empty list
        ({"os-stop": {"type": "GENTLE", "servers": ["SID"]}}, "Ecs.0005"),  # bad type
        ({"reboot": {"servers": ["SID"]}}, "Ecs.0005"),  # reboot type is required
        ({"os-pause": {"servers": ["SID"]}}, "Ecs.0005"),  # unknown action key
        ({"os-start": {"servers": ["SID"]}, "os-stop": {"servers": ["SID"]}}, "Ecs.0005"),  # two action keys
        ({"os-start": {"servers": ["SID", "SID"]}}, "Ecs.0005"),  # duplicate ids (contract 2.5)
        ({"os-start": {"servers": ["SID"] + [str(uuid.UUID(int=i)) for i in range(1, 1001)]}}, "Ecs.0118"),
    ],
    ids=["empty-list", "bad-type", "reboot-without-type", "unknown-action", "two-actions", "duplicate-ids",
         "over-1000"],
)
def test_a_malformed_batch_action_is_refused_synchronously_with_a_documented_400_and_no_job(ecsd, body, code):
    (sid,) = ecsd.create_servers(count=1)

    def fill(value):
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [{"id": sid} if v == "SID" else {"id": v} for v in value]
        return value

    r = ecsd.raw("POST", "/v1/{project_id}/cloudservers/action", fill(body))
    assert r.status_code == 400, (r.status_code, r.text)
    assert r.json()["error"]["code"] == code, r.text
    assert "job_id" not in r.json()
    assert r.headers.get("X-Request-Id")
    assert_statuses(ecsd, [sid], "ACTIVE", "active", 1)


def test_an_action_request_without_a_body_is_refused_with_common_0002(ecsd):
    r = ecsd.raw("POST", "/v1/{project_id}/cloudservers/action")
    assert r.status_code == 400, (r.status_code, r.text)
    assert r.json()["error"]["code"] == "Common.0002"


def test_deleted_servers_disappear_from_list_and_show_answers_404_ecs_0114(ecsd):
    ids = ecsd.create_servers(count=3)
    keep = ecsd.create_servers(count=1, name="keep")
    job = ecsd.wait_job(delete(ecsd, ids))
    assert_job(job, "deleteServer", "deleteSingleServer", ids)

    for sid in ids:
        err = expect_client_error(ecsd.ecs.show_server, ShowServerRequest(server_id=sid))
        assert (err.status_code, err.error_code) == (404, "Ecs.0114"), err.error_msg
        assert err.request_id
    remaining = list_servers(ecsd)
    assert remaining.count == 1 and [s.id for s in remaining.servers] == keep


def test_an_unknown_job_id_answers_400_common_0011(ecsd):
    err = expect_client_error(ecsd.ecs.show_job, ShowJobRequest(job_id=uuid.uuid4().hex))
    assert (err.status_code, err.error_code) == (400, "Common.0011")
    r = ecsd.raw("GET", f"/v1/{{project_id}}/jobs/{uuid.uuid4().hex}")
    assert r.json()["error"]["code"] == "Common.0011", "error must use the {error:{code,message}} shape (1.3)"


def test_every_response_carries_an_x_request_id(ecsd):
    for method, path in [
        ("GET", "/"),
        ("GET", "/v1/{project_id}/cloudservers/detail"),
        ("GET", f"/v1/{{project_id}}/cloudservers/{uuid.uuid4()}"),
        ("GET", "/v1/{project_id}/cloudservers/flavors"),
    ]:
        r = ecsd.raw(method, path)
        assert r.headers.get("X-Request-Id"), f"{method} {path} -> {r.status_code} without X-Request-Id"


def test_an_unknown_project_in_the_url_is_refused_with_a_4xx_code(ecsd):
    r = ecsd.raw("GET", f"/v1/{uuid.uuid4().hex}/cloudservers/detail")
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    code = r.json().get("error", {}).get("code") or r.json().get("error_code")
    assert code, r.text


# ------------------------------------------------------------------ persistence


def test_servers_and_jobs_survive_a_kill_and_a_restart_on_the_same_data_dir(ecsd):
    resp = ecsd.ecs.create_post_paid_servers(
        CreatePostPaidServersRequest(
            body=CreatePostPaidServersRequestBody(
                server=ecsd.server_spec(name="durable", count=3, tags={"k": "v"})
            )
        )
    )
    ids = list(resp.server_ids)
    ecsd.wait_job(resp.job_id)
    stop_job = stop(ecsd, ids[:1])
    ecsd.wait_job(stop_job)
    before = {sid: ecsd.show_raw(sid) for sid in ids}

    ecsd.kill()
    ecsd.start()

    assert list_servers(ecsd).count == 3
    for sid in ids:
        after = ecsd.show_raw(sid)
        for key in ("name", "status", "flavor", "addresses", "tags", "metadata", "created",
                    "OS-EXT-STS:vm_state", "os-extended-volumes:volumes_attached"):
            assert after[key] == before[sid][key], f"{sid} {key} changed across restart"
    assert_job(ecsd.wait_job(resp.job_id), "createServer", "createSingleServer", ids)
    assert_job(ecsd.wait_job(stop_job), "stopServer", "stopSingleServer", ids[:1])
    assert limits(ecsd).total_instances_used == 3


# ------------------------------------------------------------------ realistic timings


def observe(ecsd, sid, job_id, timeout=20.0):
    """Poll show until the job ends; return the distinct (status, vm_state, task_state) seen, in order."""
    seen = []
    deadline = time.monotonic() + timeout
    while True:
        s = ecsd.show(sid)
        key = (s.status, s.os_ext_st_svm_state, s.os_ext_st_stask_state)
        if not seen or seen[-1] != key:
            seen.append(key)
        if ecsd.ecs.show_job(ShowJobRequest(job_id=job_id)).status in ("SUCCESS", "FAIL"):
            break
        assert time.monotonic() < deadline, f"job {job_id} still running after {timeout}s; seen {seen}"
        time.sleep(0.05)
    s = ecsd.show(sid)
    key = (s.status, s.os_ext_st_svm_state, s.os_ext_st_stask_state)
    if seen[-1] != key:
        seen.append(key)
    return seen


def assert_passes_through(seen, transitional, allowed_tasks, final):
    """The first observation is the transitional status, every one until the end uses the documented
    task states (contract 5.3/5.4), and the server ends in `final` with no task."""
    assert seen[0][0] == transitional, seen
    assert seen[-1] == final, seen
    for status, vm_state, task in seen[:-1]:
        assert (status, task) in allowed_tasks, f"undocumented intermediate {(status, vm_state, task)} in {seen}"


def test_with_realistic_timings_every_operation_shows_its_documented_transitional_status(ecsd_realistic):
    ecsd = ecsd_realistic
    resp = ecsd.ecs.create_post_paid_servers(
        CreatePostPaidServersRequest(body=CreatePostPaidServersRequestBody(server=ecsd.server_spec(count=1)))
    )
    (sid,) = resp.server_ids
    s = ecsd.show(sid)  # persisted with the job: show works at once
    assert (s.status, s.os_ext_st_svm_state) == ("BUILD", "building")
    assert s.os_ext_st_stask_state in CREATE_TASK_STATES
    job = ecsd.ecs.show_job(ShowJobRequest(job_id=resp.job_id))
    assert job.status in ("INIT", "RUNNING")
    assert job.end_time in ("", None), "end_time stays empty while the job runs"
    assert list_servers(ecsd, status="BUILD").count == 1
    seen = observe(ecsd, sid, resp.job_id)
    assert_passes_through(seen, "BUILD", {("BUILD", t) for t in CREATE_TASK_STATES}, ("ACTIVE", "active", None))
    assert [t for _, _, t in seen[:-1]] == [t for t in ("scheduling", "block_device_mapping", "networking", "spawning")
                                            if t in {x for _, _, x in seen}], f"create task order: {seen}"

    seen = observe(ecsd, sid, reboot(ecsd, [sid], "SOFT"))
    assert_passes_through(
        seen, "REBOOT", {("REBOOT", t) for t in ("rebooting", "reboot_pending", "reboot_started")},
        ("ACTIVE", "active", None),
    )
    seen = observe(ecsd, sid, reboot(ecsd, [sid], "HARD"))
    assert_passes_through(
        seen, "HARD_REBOOT",
        {("HARD_REBOOT", t) for t in ("rebooting_hard", "reboot_pending_hard", "reboot_started_hard")},
        ("ACTIVE", "active", None),
    )
    # A stopping server still shows ACTIVE, a starting one SHUTOFF (contract 5.4).
    seen = observe(ecsd, sid, stop(ecsd, [sid]))
    assert_passes_through(seen, "ACTIVE", {("ACTIVE", "powering-off")}, ("SHUTOFF", "stopped", None))
    assert seen[0] == ("ACTIVE", "active", "powering-off"), seen
    seen = observe(ecsd, sid, start(ecsd, [sid]))
    assert_passes_through(seen, "SHUTOFF", {("SHUTOFF", "powering-on")}, ("ACTIVE", "active", None))
    assert seen[0] == ("SHUTOFF", "stopped", "powering-on"), seen

    # A deleting server keeps its status with task_state deleting, then disappears.
    job_id = delete(ecsd, [sid])
    s = ecsd.show(sid)
    assert (s.status, s.os_ext_st_stask_state) == ("ACTIVE", "deleting")
    assert ecsd.wait_job(job_id, timeout=15).status == "SUCCESS"
    err = expect_client_error(ecsd.ecs.show_server, ShowServerRequest(server_id=sid))
    assert (err.status_code, err.error_code) == (404, "Ecs.0114")


def test_a_create_job_interrupted_by_a_kill_finishes_after_restart(ecsd_realistic):
    ecsd = ecsd_realistic
    resp = ecsd.ecs.create_post_paid_servers(
        CreatePostPaidServersRequest(body=CreatePostPaidServersRequestBody(server=ecsd.server_spec(count=2)))
    )
    assert ecsd.show(resp.server_ids[0]).status == "BUILD"
    ecsd.kill()
    ecsd.start()

    assert list_servers(ecsd).count == 2
    job = ecsd.wait_job(resp.job_id, timeout=20)
    assert_job(job, "createServer", "createSingleServer", resp.server_ids)
    assert_statuses(ecsd, resp.server_ids, "ACTIVE", "active", 1)


# ------------------------------------------------------------------ quota and tenancy (--config)


def test_a_create_beyond_the_instance_core_or_ram_quota_is_refused_with_ecs_0001(ecsd_with_config):
    ecsd = ecsd_with_config("[quota]\nmax_instances = 4\nmax_cores = 6\nmax_ram_mib = 16384\n")
    quota = limits(ecsd)
    assert (quota.max_total_instances, quota.max_total_cores, quota.max_total_ram_size) == (4, 6, 16384)
    ecsd.create_servers(count=2, flavor="s6.medium.2")  # 2 instances, 2 cores, 4 GiB

    def refused(flavor, count):
        err = expect_client_error(
            ecsd.ecs.create_post_paid_servers,
            CreatePostPaidServersRequest(
                body=CreatePostPaidServersRequestBody(server=ecsd.server_spec(flavor=flavor, count=count))
            ),
        )
        assert (err.status_code, err.error_code) == (400, "Ecs.0001"), (flavor, count, err.error_msg)

    refused("s6.small.1", 3)  # 5 instances > 4
    refused("c6.xlarge.4", 1)  # 6 cores fit, 4 + 16 GiB RAM do not
    refused("s6.xlarge.2", 2)  # 2 + 8 cores > 6
    assert list_servers(ecsd).count == 2

    ecsd.create_servers(count=2, flavor="s6.large.2")  # exactly 4 instances, 6 cores, 12 GiB: allowed
    used = limits(ecsd)
    assert (used.total_instances_used, used.total_cores_used, used.total_ram_used) == (4, 6, 12288)
    refused("s6.small.1", 1)


def test_servers_of_another_project_are_invisible_and_not_found(ecsd_with_config):

    mine, theirs = two_projects(ecsd_with_config)
    (my_id,) = mine.create_servers(count=1, name="mine")
    (their_id,) = theirs.create_servers(count=1, name="theirs")

    assert [s.id for s in list_servers(mine).servers] == [my_id]
    assert [s.id for s in list_servers(theirs).servers] == [their_id]
    err = expect_client_error(mine.ecs.show_server, ShowServerRequest(server_id=their_id))
    assert (err.status_code, err.error_code) == (404, "Ecs.0114")

    # A batch naming a foreign id is refused as if the id did not exist (contract 2.5, S6), and starts no job.
    err = expect_client_error(stop, mine, [my_id, their_id])
    assert (err.status_code, err.error_code) == (404, "Ecs.0114")
    err = expect_client_error(delete, mine, [their_id])
    assert (err.status_code, err.error_code) == (404, "Ecs.0114")
    time.sleep(0.2)
    assert_statuses(mine, [my_id], "ACTIVE", "active", 1)
    assert_statuses(theirs, [their_id], "ACTIVE", "active", 1)

    # Using the other project's id in the URL with my credential is a project mismatch (1.1: Ecs.0023).
    r = mine.raw("GET", f"/v1/{TEAM_B_PROJECT}/cloudservers/detail")
    assert r.status_code == 400 and r.json()["error"]["code"] in ("Ecs.0023", "Common.0018"), r.text
