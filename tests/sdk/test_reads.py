"""Issue 11: the other reads, driven by the official Python SDK: ListCloudServers (v1.1),
ShowServerPassword / DeleteServerPassword, ListFlavorSellPolicies, ShowFlavorCapacity. Each answer is
also checked against the SDK's model of it."""

from __future__ import annotations

import base64

from huaweicloudsdkecs.v2 import (
    CreatePostPaidServersRequest,
    CreatePostPaidServersRequestBody,
    DeleteServerPasswordRequest,
    ListCloudServersRequest,
    ListFlavorSellPoliciesRequest,
    ShowFlavorCapacityRequest,
    ShowServerPasswordRequest,
)
from huaweicloudsdkims.v2 import ListImagesRequest

from conftest import expect_client_error
from model_check import assert_fits_model


def test_the_v1_1_list_pages_by_marker_with_the_fields_asked_for(ecsd):
    servers = ecsd.create_servers(5, name="v11", flavor="s6.small.1")
    seen = []
    marker = None
    while True:
        page = ecsd.ecs.list_cloud_servers(ListCloudServersRequest(limit=2, marker=marker, expect_fields=["addresses", "locked"]))
        seen += [s.id for s in page.servers]
        for s in page.servers:
            assert s.status == "ACTIVE" and s.flavor.vcpus == 1 and s.locked is False
            assert list(s.addresses.values())[0][0].version == 4
        if not page.servers_links:
            break
        assert page.servers_links[0].rel == "next"
        marker = page.servers[-1].id
    assert sorted(seen) == sorted(servers)
    only = ecsd.ecs.list_cloud_servers(ListCloudServersRequest(id=servers[2]))
    assert [s.id for s in only.servers] == [servers[2]] and only.request_id
    r = ecsd.raw("GET", "/v1.1/{project_id}/cloudservers/detail",
                 query=[("expect-fields", "launched_at,key_name,locked,root_device_name,tenancy,dedicated_host_id,"
                         "enterprise_project_id,tags,metadata,addresses,security_groups,volumes_attached,image,"
                         "power_state,cpu_options,market_info"), ("limit", "1")])
    assert r.status_code == 200, r.text
    assert_fits_model(r.json(), "ListCloudServersResponse")
    e = expect_client_error(ecsd.ecs.list_cloud_servers, ListCloudServersRequest(limit=101))
    assert e.error_code == "Ecs.0005"


def test_a_windows_server_with_a_key_pair_leaves_a_password_until_it_is_deleted(ecsd):
    windows = [i for i in ecsd.ims.list_images(ListImagesRequest()).images if i.os_type == "Windows"][0]
    spec = ecsd.server_spec(name="win", flavor="s6.large.2")
    spec.image_ref = windows.id
    spec.root_volume.size = max(spec.root_volume.size, int(windows.min_disk or 0))
    assert ecsd.raw("POST", "/v2.1/{project_id}/os-keypairs", {"keypair": {"name": "ops-key"}}).status_code == 200
    spec.key_name = "ops-key"
    created = ecsd.ecs.create_post_paid_servers(CreatePostPaidServersRequest(body=CreatePostPaidServersRequestBody(server=spec)))
    assert ecsd.wait_job(created.job_id).status == "SUCCESS"
    server = created.server_ids[0]
    password = ecsd.ecs.show_server_password(ShowServerPasswordRequest(server_id=server)).password
    assert len(base64.b64decode(password)) == 256
    assert_fits_model(ecsd.raw("GET", f"/v1/{{project_id}}/cloudservers/{server}/os-server-password").json(), "ShowServerPasswordResponse")
    ecsd.ecs.delete_server_password(DeleteServerPasswordRequest(server_id=server))
    assert ecsd.ecs.show_server_password(ShowServerPasswordRequest(server_id=server)).password == ""
    linux = ecsd.create_servers(1, name="linux", flavor="s6.small.1")[0]
    assert ecsd.ecs.show_server_password(ShowServerPasswordRequest(server_id=linux)).password == ""


def test_sell_policies_and_flavor_capacity(ecsd):
    policies = ecsd.ecs.list_flavor_sell_policies(ListFlavorSellPoliciesRequest(flavor_id="s6.large.2"))
    assert policies.count == 3
    assert {(p.availability_zone_id, p.sell_status, p.sell_mode) for p in policies.sell_policies} == {
        ("eu-de-01", "available", "spot"), ("eu-de-02", "available", "spot"), ("eu-de-03", "available", "spot")}
    assert policies.sell_policies[0].spot_options.interruption_policy == "immediate"
    assert_fits_model(ecsd.raw("GET", "/v1/{project_id}/cloudservers/flavor-sell-policies").json(), "ListFlavorSellPoliciesResponse")
    page = ecsd.ecs.list_flavor_sell_policies(ListFlavorSellPoliciesRequest(limit=2, marker="2"))
    assert [p.id for p in page.sell_policies] == [3, 4]
    capacity = ecsd.ecs.show_flavor_capacity(ShowFlavorCapacityRequest(flavor_id="s6.large.2", count="3"))
    assert [(r.region_id, r.availability_zone, r.prefer) for r in capacity.resources] == [
        ("eu-de", "eu-de-01", True), ("eu-de", "eu-de-02", True), ("eu-de", "eu-de-03", True)]
    assert_fits_model(ecsd.raw("GET", "/v1/{project_id}/cloudservers/flavors/s6.large.2/resources").json(), "ShowFlavorCapacityResponse")
    e = expect_client_error(ecsd.ecs.show_flavor_capacity, ShowFlavorCapacityRequest(flavor_id="nope"))
    assert e.error_code == "Ecs.0029"
