"""openstacksdk's compute API against ecsd: create, wait, page, act, delete."""

import openstack.exceptions
import pytest


def boot(conn, name, **extra):
    image = conn.image.find_image("Standard_Ubuntu_22.04_latest", ignore_missing=False)
    network = conn.network.find_network("subnet-default", ignore_missing=False)
    flavor = conn.compute.find_flavor("s6.small.1", ignore_missing=False)
    server = conn.compute.create_server(name=name, image_id=image.id, flavor_id=flavor.id,
                                        networks=[{"uuid": network.id}], **extra)
    return conn.compute.wait_for_server(server, status="ACTIVE", interval=1, wait=60)


def test_the_sdk_creates_waits_for_and_shows_a_server(ecsd):
    conn = ecsd.connection()
    server = boot(conn, "sdk-1", metadata={"team": "blue"})
    assert server.status == "ACTIVE"
    shown = conn.compute.get_server(server.id)
    assert shown.name == "sdk-1" and shown.metadata == {"team": "blue"}
    assert shown.flavor.vcpus == 1 or shown.flavor.id == "s6.small.1"
    assert conn.compute.find_server("sdk-1").id == server.id


def test_the_sdk_pages_with_limit(ecsd):
    conn = ecsd.connection()
    ids = {boot(conn, f"paged-{i}").id for i in range(3)}
    listed = list(conn.compute.servers(limit=1))
    assert {s.id for s in listed} == ids and len(listed) == 3
    details = list(conn.compute.servers(details=True, limit=2, name="paged"))
    assert {s.id for s in details} == ids


def test_the_sdk_stops_starts_reboots_and_deletes(ecsd):
    conn = ecsd.connection()
    server = boot(conn, "acted")
    conn.compute.stop_server(server)
    conn.compute.wait_for_server(server, status="SHUTOFF", interval=1, wait=60)
    with pytest.raises(openstack.exceptions.ConflictException):
        conn.compute.stop_server(server)
    conn.compute.start_server(server)
    conn.compute.wait_for_server(server, status="ACTIVE", interval=1, wait=60)
    conn.compute.reboot_server(server, "HARD")
    conn.compute.wait_for_server(server, status="ACTIVE", interval=1, wait=60)
    actions = [a.action for a in conn.compute.server_actions(server)]
    assert actions[-1] == "create" and "stop" in actions and "reboot" in actions, actions
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, interval=1, wait=60)
    assert conn.compute.find_server("acted") is None


def test_the_sdk_reads_flavors_limits_zones_and_groups(ecsd):
    conn = ecsd.connection()
    assert "s6.small.1" in {f.name for f in conn.compute.flavors()}
    limits = conn.compute.get_limits()
    assert limits.absolute.instances > 0
    assert [z.name for z in conn.compute.availability_zones()]
    group = conn.compute.create_server_group(name="sdk-group", policies=["anti-affinity"])
    assert conn.compute.get_server_group(group.id).name == "sdk-group"
    conn.compute.delete_server_group(group)


def test_the_sdk_finds_a_servers_ports_and_lists_volumes(ecsd):
    conn = ecsd.connection()
    server = boot(conn, "wired-sdk")
    ports = list(conn.network.ports(device_id=server.id))
    assert [p.device_id for p in ports] == [server.id], ports
    assert list(conn.network.ports(device_id="ffffffff-ffff-4fff-bfff-ffffffffffff")) == []
    volume = conn.block_storage.create_volume(size=10, name="sdk-data")
    listed = {v.id: v for v in conn.block_storage.volumes()}
    assert listed[volume.id].size == 10 and listed[volume.id].name == "sdk-data", listed
    booted = [v for v in listed.values() if any(a["server_id"] == server.id for a in v.attachments)]
    assert len(booted) == 1, listed
