"""The `openstack` CLI drives a server's life against ecsd, every endpoint from the catalog."""

import time

IMAGE = "Standard_Ubuntu_22.04_latest"


def test_the_cli_lists_the_catalog_flavors_images_and_networks(ecsd):
    services = {entry["Type"] for entry in ecsd.cli_json("catalog", "list")}
    assert {"compute", "identity", "image", "network", "ecs"} <= services, services
    flavors = {f["Name"] for f in ecsd.cli_json("flavor", "list")}
    assert "s6.small.1" in flavors
    images = {i["Name"]: i["Status"] for i in ecsd.cli_json("image", "list")}
    assert images.get(IMAGE) == "active", images
    networks = {n["Name"] for n in ecsd.cli_json("network", "list")}
    assert "subnet-default" in networks, networks


def test_the_cli_drives_a_server_from_create_to_delete(ecsd):
    image = IMAGE
    group = ecsd.cli_json("server", "group", "create", "--policy", "anti-affinity", "spread")
    assert group["name"] == "spread" and "anti-affinity" in str(group.get("policy") or group.get("policies")), group

    created = ecsd.cli_json("server", "create", "--flavor", "s6.small.1", "--image", image, "--network",
                            "subnet-default", "--hint", f"group={group['id']}", "--property", "team=blue", "--wait",
                            "web-1")
    assert created["status"] == "ACTIVE", created
    server_id = created["id"]

    listed = ecsd.cli_json("server", "list")
    assert [s["ID"] for s in listed] == [server_id], listed
    shown = ecsd.cli_json("server", "show", server_id)
    assert shown["name"] == "web-1" and shown["status"] == "ACTIVE", shown
    assert "team" in str(shown["properties"]), shown
    by_name = ecsd.cli_json("server", "show", "web-1")
    assert by_name["id"] == server_id

    ecsd.cli("server", "stop", server_id)
    ecsd.cli("server", "start", server_id)
    ecsd.cli("server", "reboot", "--wait", server_id)
    ecsd.cli("server", "reboot", "--hard", "--wait", server_id)
    assert ecsd.cli_json("server", "show", server_id)["status"] == "ACTIVE"

    members = ecsd.cli_json("server", "group", "show", group["id"])["members"]
    assert server_id in str(members), members

    ecsd.cli("server", "delete", "--wait", server_id)
    assert ecsd.cli_json("server", "list") == []
    ecsd.cli("server", "group", "delete", group["id"])


def test_the_cli_stops_and_starts_and_is_refused_what_the_state_does_not_allow(ecsd):
    image = ecsd.cli_json("image", "show", IMAGE)["id"]
    network = ecsd.cli_json("network", "show", "subnet-default")["id"]
    created = ecsd.cli_json("server", "create", "--flavor", "s6.small.1", "--image", image, "--nic",
                            f"net-id={network}", "--wait", "stopper")
    ecsd.cli("server", "stop", created["id"])
    assert ecsd.cli_json("server", "show", created["id"])["status"] == "SHUTOFF"
    ecsd.cli("server", "start", created["id"])
    assert ecsd.cli_json("server", "show", created["id"])["status"] == "ACTIVE"
    refused = ecsd.cli("server", "start", created["id"], check=False)
    assert refused.returncode != 0 and "409" in refused.stderr, refused.stderr


def test_the_cli_makes_key_pairs_and_a_server_that_names_one(ecsd, tmp_path):
    private = ecsd.cli("keypair", "create", "cli-key").stdout
    assert "BEGIN OPENSSH PRIVATE KEY" in private, private
    public = ecsd.cli("keypair", "show", "--public-key", "cli-key").stdout.strip()
    assert public.startswith("ssh-ed25519 "), public
    public_file = tmp_path / "id.pub"
    public_file.write_text(public + " me@laptop\n")
    imported = ecsd.cli_json("keypair", "create", "--public-key", str(public_file), "imported")
    keys = {k["Name"]: k["Fingerprint"] for k in ecsd.cli_json("keypair", "list")}
    assert keys == {"cli-key": imported["fingerprint"], "imported": imported["fingerprint"]}, keys
    assert "PRIVATE" not in ecsd.cli("keypair", "show", "cli-key", "-f", "json").stdout

    created = ecsd.cli_json("server", "create", "--flavor", "s6.small.1", "--image", IMAGE, "--network",
                            "subnet-default", "--key-name", "cli-key", "--wait", "keyed")
    assert created["key_name"] == "cli-key", created
    refused = ecsd.cli("server", "create", "--flavor", "s6.small.1", "--image", IMAGE, "--network",
                       "subnet-default", "--key-name", "no-such-key", "unkeyed", check=False)
    assert refused.returncode != 0 and "Invalid key_name provided" in refused.stderr, refused.stderr

    ecsd.cli("keypair", "delete", "cli-key", "imported")
    assert ecsd.cli_json("keypair", "list") == []


def test_the_cli_adds_a_network_and_moves_the_security_groups_of_a_server(ecsd):
    created = ecsd.cli_json("server", "create", "--flavor", "s6.medium.2", "--image", IMAGE, "--network",
                            "subnet-default", "--wait", "wired")
    server_id = created["id"]

    ecsd.cli("server", "add", "network", server_id, "subnet-default")
    addresses = ""
    for _ in range(100):
        addresses = str(ecsd.cli_json("server", "show", server_id)["addresses"])
        if addresses.count("192.168.") == 2:
            break
        time.sleep(0.1)
    assert addresses.count("192.168.") == 2, addresses
    refused = ecsd.cli("server", "add", "network", server_id, "subnet-default", check=False)
    assert refused.returncode != 0 and "NICs" in refused.stderr, refused.stderr

    assert "default" in str(ecsd.cli_json("server", "show", server_id)["security_groups"])
    ecsd.cli("server", "remove", "security", "group", server_id, "default")
    assert "default" not in str(ecsd.cli_json("server", "show", server_id)["security_groups"])
    refused = ecsd.cli("server", "remove", "security", "group", server_id, "default", check=False)
    assert refused.returncode != 0 and "not associated" in refused.stderr, refused.stderr
    ecsd.cli("server", "add", "security", "group", server_id, "default")
    assert "default" in str(ecsd.cli_json("server", "show", server_id)["security_groups"])
    refused = ecsd.cli("server", "add", "security", "group", server_id, "no-such-group", check=False)
    assert refused.returncode != 0 and "not found" in refused.stderr, refused.stderr


def test_the_cli_resizes_a_server_and_confirms_or_reverts(ecsd):
    created = ecsd.cli_json("server", "create", "--flavor", "s6.small.1", "--image", IMAGE, "--network",
                            "subnet-default", "--wait", "growing")
    server_id = created["id"]

    ecsd.cli("server", "resize", "--flavor", "s6.large.2", "--wait", server_id)
    shown = ecsd.cli_json("server", "show", server_id)
    assert shown["status"] == "VERIFY_RESIZE", shown
    assert "s6.large.2" in str(shown["flavor"]), shown
    ecsd.cli("server", "resize", "confirm", server_id)
    for _ in range(100):
        shown = ecsd.cli_json("server", "show", server_id)
        if shown["status"] == "ACTIVE":
            break
        time.sleep(0.1)
    assert shown["status"] == "ACTIVE" and "s6.large.2" in str(shown["flavor"]), shown

    ecsd.cli("server", "resize", "--flavor", "s6.xlarge.2", "--wait", server_id)
    ecsd.cli("server", "resize", "revert", server_id)
    for _ in range(100):
        shown = ecsd.cli_json("server", "show", server_id)
        if shown["status"] == "ACTIVE":
            break
        time.sleep(0.1)
    assert shown["status"] == "ACTIVE" and "s6.large.2" in str(shown["flavor"]), shown
    refused = ecsd.cli("server", "resize", "--flavor", "s6.large.2", server_id, check=False)
    assert refused.returncode != 0 and "must change flavor" in refused.stderr, refused.stderr
    actions = {a["Action"] for a in ecsd.cli_json("server", "event", "list", server_id)}
    assert {"resize", "confirmResize", "revertResize"} <= actions, actions


def test_the_cli_makes_lists_shows_and_deletes_ports(ecsd):
    created = ecsd.cli_json("port", "create", "--network", "subnet-default", "--fixed-ip",
                            "ip-address=192.168.0.77", "vip-1")
    assert created["name"] == "vip-1" and created["status"] == "DOWN", created
    assert "192.168.0.77" in str(created["fixed_ips"]), created
    listed = ecsd.cli_json("port", "list")
    assert [p["ID"] for p in listed] == [created["id"]], listed
    by_network = ecsd.cli_json("port", "list", "--network", "subnet-default")
    assert [p["Name"] for p in by_network] == ["vip-1"], by_network
    shown = ecsd.cli_json("port", "show", "vip-1")
    assert shown["id"] == created["id"], shown
    ecsd.cli("port", "delete", "vip-1")
    assert ecsd.cli_json("port", "list") == []
    refused = ecsd.cli("port", "show", "vip-1", check=False)
    assert refused.returncode != 0, refused.stdout


def test_the_cli_makes_security_groups_and_their_rules(ecsd):
    group = ecsd.cli_json("security", "group", "create", "--description", "web tier", "web")
    assert group["name"] == "web" and group["description"] == "web tier", group
    rule = ecsd.cli_json("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "22",
                         "--remote-ip", "0.0.0.0/0", "web")
    assert rule["port_range_min"] == 22 and rule["protocol"] == "tcp", rule
    groups = {g["Name"] for g in ecsd.cli_json("security", "group", "list")}
    assert {"default", "web"} <= groups, groups
    rules = ecsd.cli_json("security", "group", "rule", "list", "web")
    assert rule["id"] in [r["ID"] for r in rules], rules
    refused = ecsd.cli("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "22",
                       "--remote-ip", "0.0.0.0/0", "web", check=False)
    assert refused.returncode != 0 and "409" in refused.stderr, refused.stderr
    ecsd.cli("security", "group", "rule", "delete", rule["id"])
    ecsd.cli("security", "group", "delete", "web")
    assert "web" not in {g["Name"] for g in ecsd.cli_json("security", "group", "list")}


def test_the_cli_makes_lists_and_deletes_volumes(ecsd):
    created = ecsd.cli_json("volume", "create", "--size", "10", "data-1")
    assert created["name"] == "data-1" and created["size"] == 10, created
    listed = ecsd.cli_json("volume", "list")
    assert [(v["Name"], v["Size"]) for v in listed] == [("data-1", 10)], listed
    assert listed[0]["Status"] == "available", listed
    refused = ecsd.cli("volume", "create", "--size", "1", "tiny", check=False)
    assert refused.returncode != 0 and "400" in refused.stderr, refused.stderr
    ecsd.cli("volume", "delete", "data-1")
    assert ecsd.cli_json("volume", "list") == []


def wait_until(check, what):
    for _ in range(200):
        seen = check()
        if seen:
            return seen
        time.sleep(0.1)
    raise AssertionError(f"never {what}")


def test_the_cli_creates_a_server_in_security_groups_it_names(ecsd):
    web = ecsd.cli_json("security", "group", "create", "web")
    created = ecsd.cli_json("server", "create", "--flavor", "s6.small.1", "--image", IMAGE, "--network",
                            "subnet-default", "--security-group", "web", "--security-group", "default", "--wait",
                            "guarded")
    groups = str(ecsd.cli_json("server", "show", created["id"])["security_groups"])
    assert "web" in groups and "default" in groups, groups
    ports = ecsd.cli_json("port", "list", "--server", created["id"])
    assert len(ports) == 1, ports
    assert web["id"] in ecsd.cli_json("port", "show", ports[0]["ID"])["security_group_ids"], ports
    refused = ecsd.cli("server", "create", "--flavor", "s6.small.1", "--image", IMAGE, "--network",
                       "subnet-default", "--security-group", "no-such-group", "refused", check=False)
    assert refused.returncode != 0, refused.stdout
    assert [s["Name"] for s in ecsd.cli_json("server", "list")] == ["guarded"]


def test_the_cli_adds_and_removes_a_port_and_a_volume(ecsd):
    server_id = ecsd.cli_json("server", "create", "--flavor", "s6.medium.2", "--image", IMAGE, "--network",
                              "subnet-default", "--wait", "host")["id"]
    spare = ecsd.cli_json("port", "create", "--network", "subnet-default", "spare")
    ecsd.cli("server", "add", "port", server_id, "spare")
    wait_until(lambda: ecsd.cli_json("port", "show", spare["id"])["device_id"] == server_id, "attached")
    wait_until(lambda: len(ecsd.cli_json("port", "list", "--server", server_id)) == 2, "two ports")
    ecsd.cli("server", "remove", "port", server_id, "spare")
    wait_until(lambda: ecsd.cli_json("port", "show", spare["id"])["device_id"] == "", "detached")
    refused = ecsd.cli("server", "remove", "port", server_id, "spare", check=False)
    assert refused.returncode != 0, refused.stdout

    volume = ecsd.cli_json("volume", "create", "--size", "10", "data-2")
    ecsd.cli("server", "add", "volume", server_id, "data-2")
    shown = wait_until(lambda: (v := ecsd.cli_json("volume", "show", volume["id"]))["status"] == "in-use" and v,
                       "in use")
    assert server_id in str(shown["attachments"]), shown
    ecsd.cli("server", "remove", "volume", server_id, "data-2")
    wait_until(lambda: ecsd.cli_json("volume", "show", volume["id"])["status"] == "available", "available")
    refused = ecsd.cli("server", "remove", "volume", server_id, "data-2", check=False)
    assert refused.returncode != 0, refused.stdout
    ecsd.cli("volume", "delete", "data-2")
