//! Changing a server's NICs beyond adding and deleting them: ports attached by their id (on
//! create and BatchAddServerNics, kept when they leave), UpdateServerInterface,
//! ChangeServerNetworkInterface, AssociateServerVirtualIp / DisassociateServerVirtualIp and
//! ChangeVpc, each with its refusals, fault rules and projects kept apart.

use crate::common::*;
use crate::vpc::ports_of;
use ecsd::engine::sim::Timings;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const OTHER_VPC: &str = "3b9e6d1a-7c2f-4e8a-b5d0-0a1b2c3d4e02";
const OTHER_SUBNET: &str = "5c1d7e2b-8a3f-4b9c-a6e1-1b2c3d4e5f02";

async fn new_port(ecs: &TestServer, subnet: &str, ip: &str) -> Value {
    let (status, body) =
        ecs.post(&ecs.v1("/ports"), json!({"port": {"network_id": subnet, "fixed_ips": [{"ip_address": ip}]}})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["port"].clone()
}

async fn port(ecs: &TestServer, id: &str) -> Value {
    let (status, body) = ecs.get(&ecs.v1(&format!("/ports/{id}"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["port"].clone()
}

async fn interfaces(ecs: &TestServer, server: &str) -> Vec<Value> {
    let (status, body) = ecs.get(&ecs.v1(&format!("/cloudservers/{server}/os-interface"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["interfaceAttachments"].as_array().expect("attachments").clone()
}

async fn done(ecs: &TestServer, answer: (StatusCode, Value)) -> Value {
    let (status, body) = answer;
    assert_eq!(status, StatusCode::OK, "{body}");
    ecs.wait_job(body["job_id"].as_str().expect("job id")).await
}

async fn add_nics(ecs: &TestServer, server: &str, nics: Value) -> (StatusCode, Value) {
    ecs.post(&ecs.v1(&format!("/cloudservers/{server}/nics")), json!({ "nics": nics })).await
}

async fn change_vpc(ecs: &TestServer, server: &str, body: Value) -> (StatusCode, Value) {
    ecs.post(&ecs.v1(&format!("/cloudservers/{server}/changevpc")), body).await
}

async fn vip(ecs: &TestServer, nic: &str, body: Value) -> (StatusCode, Value) {
    ecs.put(&ecs.v1(&format!("/cloudservers/nics/{nic}")), body).await
}

async fn change_ip(ecs: &TestServer, server: &str, port: &str, body: Value) -> (StatusCode, Value) {
    ecs.post(&ecs.v1(&format!("/cloudservers/{server}/os-interface/{port}/change-network-interface")), body).await
}

async fn update_interface(ecs: &TestServer, server: &str, port: &str, delete: bool) -> (StatusCode, Value) {
    ecs.put(
        &ecs.v1(&format!("/cloudservers/{server}/os-interface/{port}")),
        json!({"interface_attachment": {"delete_on_termination": delete}}),
    )
    .await
}

fn ip_of(port: &Value) -> Value {
    port["fixed_ips"][0]["ip_address"].clone()
}

#[tokio::test]
async fn an_attached_port_keeps_its_address_and_mac_and_outlives_the_server() {
    let ecs = TestServer::start().await;
    let own = new_port(&ecs, SUBNET, "192.168.40.4").await;
    let own_id = own["id"].as_str().expect("id").to_string();
    let mut body = create_body("eni", "s6.xlarge.2", 1);
    body["server"]["nics"] = json!([{"port_id": own_id}, {"subnet_id": SUBNET}]);
    let server = ecs.create_from(body).await.remove(0);
    let listed = interfaces(&ecs, &server).await;
    assert_eq!(listed[0]["port_id"], own_id.as_str(), "the port is the primary NIC");
    assert_eq!(listed[0]["fixed_ips"][0]["ip_address"], "192.168.40.4");
    assert_eq!(listed[0]["mac_addr"], own["mac_address"]);
    assert_eq!(listed[0]["delete_on_termination"], false);
    assert_eq!(listed[1]["delete_on_termination"], true);
    let shown = ecs.server(&server).await;
    assert_eq!(shown["addresses"][VPC][0]["addr"], "192.168.40.4");
    let bound = port(&ecs, &own_id).await;
    assert_eq!((bound["status"].clone(), bound["device_id"].clone()), (json!("ACTIVE"), json!(server)));
    let (_, extension) = ecs.get(&ecs.v1(&format!("/cloudservers/{server}/os-interface_extension"))).await;
    assert_eq!(extension["interfaceAttachments"][0]["preserve_on_delete"], true, "{extension}");

    // In use now: neither a create nor another server may take it.
    let other = ecs.create_servers("other", "s6.xlarge.2", 1).await.remove(0);
    let (status, body) = add_nics(&ecs, &other, json!([{"port_id": own_id}])).await;
    assert_error(status, &body, 400, "Ecs.0919");
    let mut body = create_body("again", "s6.xlarge.2", 1);
    body["server"]["nics"] = json!([{"port_id": own_id}]);
    let (status, body) = ecs.post(&ecs.v1("/cloudservers"), body).await;
    assert_error(status, &body, 400, "Ecs.0919");

    assert_eq!(ecs.delete(std::slice::from_ref(&server)).await["status"], "SUCCESS");
    let kept = port(&ecs, &own_id).await;
    assert_eq!((kept["status"].clone(), kept["device_id"].clone()), (json!("DOWN"), json!("")), "{kept}");
    assert_eq!((ip_of(&kept), kept["mac_address"].clone()), (ip_of(&own), own["mac_address"].clone()));
    assert_eq!(ports_of(&ecs, &server).await, Vec::<Value>::new(), "the port ECS made is gone");

    // Free again: a NIC of another server, which UpdateServerInterface lets go with it.
    let job = done(&ecs, add_nics(&ecs, &other, json!([{"port_id": own_id, "subnet_id": OTHER_SUBNET}])).await).await;
    assert_eq!(job["status"], "SUCCESS", "port_id wins over subnet_id: {job}");
    let (status, body) = update_interface(&ecs, &other, &own_id, true).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(interfaces(&ecs, &other).await[1]["delete_on_termination"], true);
    assert_eq!(ecs.delete(std::slice::from_ref(&other)).await["status"], "SUCCESS");
    let (status, _) = ecs.get(&ecs.v1(&format!("/ports/{own_id}"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "deleted with the server now");
}

#[tokio::test]
async fn attaching_a_port_is_refused_with_the_documented_codes() {
    let ecs = TestServer::start().await;
    let server = ecs.create_servers("web", "s6.xlarge.2", 1).await.remove(0);
    let primary = interfaces(&ecs, &server).await[0]["port_id"].as_str().expect("id").to_string();
    let elsewhere = new_port(&ecs, OTHER_SUBNET, "10.0.1.50").await["id"].as_str().expect("id").to_string();
    let free = new_port(&ecs, SUBNET, "192.168.41.1").await["id"].as_str().expect("id").to_string();
    let (status, body) = ecs
        .post(
            &ecs.v1("/ports"),
            json!({"port": {"network_id": SUBNET, "fixed_ips": [{"ip_address": "192.168.41.2"}],
                            "device_owner": "neutron:VIP_PORT"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let vip = body["port"]["id"].as_str().expect("id").to_string();
    for (nics, code) in [
        (json!([{"port_id": "no-such-port"}]), "Ecs.0307"),
        (json!([{"port_id": primary}]), "Ecs.0919"),
        (json!([{"port_id": vip}]), "Ecs.0919"),
        (json!([{"port_id": elsewhere}]), "Ecs.0064"),
        (json!([{"port_id": free}, {"port_id": free}]), "Ecs.0005"),
        (json!([{"ip_address": "192.168.41.3"}]), "Ecs.0005"),
        // The second NIC's address is taken: the first NIC's port stays as it was.
        (json!([{"port_id": free}, {"subnet_id": SUBNET, "ip_address": "192.168.41.2"}]), "Ecs.0010"),
    ] {
        let (status, body) = add_nics(&ecs, &server, nics.clone()).await;
        assert_error(status, &body, 400, code);
    }
    assert_eq!(port(&ecs, &free).await["status"], "DOWN", "a refusal binds nothing");
    assert_eq!(ports_of(&ecs, &server).await.len(), 1);

    let mut body = create_body("two", "s6.xlarge.2", 2);
    body["server"]["nics"] = json!([{"port_id": free}]);
    let (status, body) = ecs.post(&ecs.v1("/cloudservers"), body).await;
    assert_error(status, &body, 400, "Ecs.0005");
    let mut body = create_body("elsewhere", "s6.xlarge.2", 1);
    body["server"]["nics"] = json!([{"port_id": elsewhere}]);
    let (status, body) = ecs.post(&ecs.v1("/cloudservers"), body).await;
    assert_error(status, &body, 400, "Ecs.0064");
}

#[tokio::test]
async fn update_server_interface_and_its_refusals() {
    let ecs = TestServer::start().await;
    let server = ecs.create_servers("web", "s6.xlarge.2", 1).await.remove(0);
    let primary = interfaces(&ecs, &server).await[0]["port_id"].as_str().expect("id").to_string();
    let (status, body) = update_interface(&ecs, &server, &primary, false).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(interfaces(&ecs, &server).await[0]["delete_on_termination"], false);
    let (status, body) = update_interface(&ecs, &server, "not-a-nic", false).await;
    assert_error(status, &body, 400, "Ecs.0085");
    let (status, body) = update_interface(&ecs, "00000000-0000-4000-8000-000000000000", &primary, false).await;
    assert_error(status, &body, 404, "Ecs.0114");
    let (status, body) =
        ecs.put(&ecs.v1(&format!("/cloudservers/{server}/os-interface/{primary}")), json!({"x": 1})).await;
    assert_error(status, &body, 400, "Ecs.0005");

    // A primary NIC kept when the server goes: its port stays, unbound.
    assert_eq!(ecs.delete(std::slice::from_ref(&server)).await["status"], "SUCCESS");
    assert_eq!(port(&ecs, &primary).await["status"], "DOWN");
}

#[tokio::test]
async fn the_primary_nic_of_a_stopped_server_changes_its_address() {
    let ecs = TestServer::start().await;
    let server = ecs.create_servers("web", "s6.xlarge.2", 1).await.remove(0);
    let before = interfaces(&ecs, &server).await[0].clone();
    let primary = before["port_id"].as_str().expect("id").to_string();
    let body = json!({"subnet_id": SUBNET, "ip_address": "192.168.50.5"});
    let (status, answer) = change_ip(&ecs, &server, &primary, body.clone()).await;
    assert_error(status, &answer, 400, "Ecs.0100");
    assert_eq!(ecs.batch("os-stop", std::slice::from_ref(&server), json!({})).await["status"], "SUCCESS");

    let (status, answer) = change_ip(&ecs, &server, &primary, body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["id"], primary.as_str());
    assert_eq!((answer["subnet_id"].clone(), answer["ip_address"].clone()), (json!(SUBNET), json!("192.168.50.5")));
    let after = interfaces(&ecs, &server).await[0].clone();
    assert_eq!(after["fixed_ips"][0]["ip_address"], "192.168.50.5");
    assert_eq!(after["mac_addr"], before["mac_addr"], "the MAC stays");
    assert_eq!(ecs.server(&server).await["addresses"][VPC][0]["addr"], "192.168.50.5");
    assert_eq!(ip_of(&port(&ecs, &primary).await), "192.168.50.5");
    // The old address is free again.
    let old = before["fixed_ips"][0]["ip_address"].as_str().expect("ip").to_string();
    new_port(&ecs, SUBNET, &old).await;

    let (status, answer) = change_ip(&ecs, &server, &primary, json!({"subnet_id": SUBNET, "ip_address": ""})).await;
    assert_eq!(status, StatusCode::OK, "an empty address takes a free one: {answer}");
    assert_ne!(answer["ip_address"], "192.168.50.5");

    let job = done(&ecs, add_nics(&ecs, &server, json!([{"subnet_id": SUBNET}])).await).await;
    assert_eq!(job["status"], "SUCCESS");
    let second = interfaces(&ecs, &server).await[1]["port_id"].as_str().expect("id").to_string();
    let taken = ip_of(&port(&ecs, &second).await);
    for (port_id, body, code) in [
        (second.as_str(), json!({"subnet_id": SUBNET, "ip_address": ""}), "Ecs.0086"),
        ("not-a-nic", json!({"subnet_id": SUBNET, "ip_address": ""}), "Ecs.0085"),
        (primary.as_str(), json!({"subnet_id": OTHER_SUBNET, "ip_address": ""}), "Ecs.0064"),
        (primary.as_str(), json!({"subnet_id": "nope", "ip_address": ""}), "Ecs.0038"),
        (primary.as_str(), json!({"subnet_id": SUBNET, "ip_address": taken}), "Ecs.0010"),
        (primary.as_str(), json!({"subnet_id": SUBNET, "ip_address": "10.0.0.9"}), "Ecs.0039"),
        (primary.as_str(), json!({"subnet_id": SUBNET, "ip_address": "nope"}), "Ecs.0005"),
        (primary.as_str(), json!({"subnet_id": SUBNET, "ipv6_address": ""}), "Ecs.0005"),
        (primary.as_str(), json!({"ip_address": "192.168.50.6"}), "Ecs.0005"),
    ] {
        let (status, answer) = change_ip(&ecs, &server, port_id, body.clone()).await;
        assert_error(status, &answer, 400, code);
    }
}

#[tokio::test]
async fn virtual_ips_are_bound_to_a_nic_and_unbound() {
    let ecs = TestServer::start().await;
    let server = ecs.create_servers("web", "s6.xlarge.2", 1).await.remove(0);
    let nic = interfaces(&ecs, &server).await[0].clone();
    let nic_id = nic["port_id"].as_str().expect("id").to_string();
    let nic_ip = nic["fixed_ips"][0]["ip_address"].clone();

    // A new address becomes a virtual IP port; with reverse binding it allows the NIC back.
    let (status, body) = vip(
        &ecs,
        &nic_id,
        json!({"nic": {"subnet_id": SUBNET, "ip_address": "192.168.60.1", "reverse_binding": true}}),
    )
    .await;
    assert_eq!((status, body["port_id"].clone()), (StatusCode::OK, json!(nic_id)), "{body}");
    let (_, listed) = ecs.get(&ecs.v1("/ports?fixed_ips=ip_address=192.168.60.1")).await;
    let virtual_ip = listed["ports"][0].clone();
    assert_eq!(virtual_ip["device_owner"], "neutron:VIP_PORT", "{listed}");
    assert_eq!(virtual_ip["allowed_address_pairs"][0]["ip_address"], nic_ip);
    assert_eq!(virtual_ip["allowed_address_pairs"][0]["mac_address"], nic["mac_addr"]);
    // An existing private IP is taken as it is.
    let private = new_port(&ecs, SUBNET, "192.168.60.2").await;
    let (status, body) = vip(&ecs, &nic_id, json!({"nic": {"subnet_id": SUBNET, "ip_address": "192.168.60.2"}})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let pairs = port(&ecs, &nic_id).await["allowed_address_pairs"].clone();
    assert_eq!(pairs.as_array().map(Vec::len), Some(2), "{pairs}");
    assert_eq!(port(&ecs, private["id"].as_str().expect("id")).await["allowed_address_pairs"], json!([]));

    for (nic_id, body, code) in [
        (nic_id.as_str(), json!({"nic": {"subnet_id": SUBNET, "ip_address": nic_ip}}), "Ecs.0010"),
        (nic_id.as_str(), json!({"nic": {"subnet_id": OTHER_SUBNET, "ip_address": "10.0.1.9"}}), "Ecs.0005"),
        (nic_id.as_str(), json!({"nic": {"subnet_id": "nope", "ip_address": "10.0.1.9"}}), "Ecs.0038"),
        (nic_id.as_str(), json!({"nic": {"subnet_id": SUBNET, "ip_address": "10.0.1.9"}}), "Ecs.0039"),
        (nic_id.as_str(), json!({"nic": {"subnet_id": SUBNET, "ip_address": "bad"}}), "Ecs.0005"),
        (
            private["id"].as_str().expect("id"),
            json!({"nic": {"subnet_id": SUBNET, "ip_address": "192.168.60.3"}}),
            "Ecs.0307",
        ),
        ("no-such-nic", json!({"nic": {"subnet_id": SUBNET, "ip_address": "192.168.60.3"}}), "Ecs.0307"),
    ] {
        let (status, body) = vip(&ecs, nic_id, body).await;
        assert_error(status, &body, 400, code);
    }
    let other = ecs.create_servers("other", "s6.xlarge.2", 1).await.remove(0);
    let other_nic = interfaces(&ecs, &other).await[0].clone();
    let held = other_nic["fixed_ips"][0]["ip_address"].clone();
    let (status, body) = vip(&ecs, &nic_id, json!({"nic": {"subnet_id": SUBNET, "ip_address": held}})).await;
    assert_error(status, &body, 400, "Ecs.0010");

    let (status, body) = vip(&ecs, &nic_id, json!({"nic": {"subnet_id": "", "ip_address": ""}})).await;
    assert_eq!((status, body["port_id"].clone()), (StatusCode::OK, json!(nic_id)), "{body}");
    assert_eq!(port(&ecs, &nic_id).await["allowed_address_pairs"], json!([]));
    let (_, listed) = ecs.get(&ecs.v1("/ports?fixed_ips=ip_address=192.168.60.1")).await;
    assert_eq!(listed["ports"][0]["allowed_address_pairs"], json!([]), "the reverse pair goes too: {listed}");
    let (status, _) = vip(&ecs, &nic_id, json!({})).await;
    assert_eq!(status, StatusCode::OK, "no nic at all unbinds as well");
}

#[tokio::test]
async fn change_vpc_moves_a_server_to_a_new_primary_nic() {
    let ecs = TestServer::start_with_timings(Timings { nic_ms: 0, change_vpc_ms: 600_000, ..Timings::INSTANT }).await;
    let server = ecs.create_servers("web", "s6.xlarge.2", 1).await.remove(0);
    let old = interfaces(&ecs, &server).await[0]["port_id"].as_str().expect("id").to_string();
    let body = json!({"vpc_id": OTHER_VPC, "nic": {"subnet_id": OTHER_SUBNET, "ip_address": "10.0.1.77"}});
    let (status, answer) = change_vpc(&ecs, &server, body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let job_id = answer["job_id"].as_str().expect("job").to_string();
    let shown = ecs.server(&server).await;
    assert_eq!(shown["OS-EXT-STS:task_state"], "networking");
    let (status, answer) =
        change_vpc(&ecs, &server, json!({"vpc_id": OTHER_VPC, "nic": {"subnet_id": OTHER_SUBNET}})).await;
    assert_error(status, &answer, 400, "Ecs.0603");
    let (_, listed) = ecs.get(&ecs.v1("/ports?fixed_ips=ip_address=10.0.1.77")).await;
    assert_eq!(listed["ports"][0]["device_id"], server.as_str(), "the new port holds its address at once");

    let (status, _) = ecs.post("/_ecsd/clock/advance", json!({"seconds": 600})).await;
    assert_eq!(status, StatusCode::OK);
    let job = ecs.wait_job(&job_id).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert_eq!(job["job_type"], "changeVpc");
    let shown = ecs.server(&server).await;
    assert_eq!(shown["metadata"]["vpc_id"], OTHER_VPC, "{shown}");
    assert_eq!(shown["addresses"][OTHER_VPC][0]["addr"], "10.0.1.77", "{shown}");
    let listed = interfaces(&ecs, &server).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["net_id"], OTHER_SUBNET);
    let (status, _) = ecs.get(&ecs.v1(&format!("/ports/{old}"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the old primary NIC's port is deleted");
}

#[tokio::test]
async fn change_vpc_is_refused_with_the_documented_codes() {
    let ecs = TestServer::start().await;
    let server = ecs.create_servers("web", "s6.xlarge.2", 1).await.remove(0);
    let held = new_port(&ecs, OTHER_SUBNET, "10.0.1.20").await;
    let wrong = new_port(&ecs, SUBNET, "192.168.70.1").await["id"].as_str().expect("id").to_string();
    for (body, code) in [
        (json!({"vpc_id": "nope", "nic": {"subnet_id": OTHER_SUBNET}}), "Ecs.0014"),
        (json!({"vpc_id": VPC, "nic": {"subnet_id": SUBNET}}), "Ecs.0005"),
        (json!({"vpc_id": OTHER_VPC, "nic": {"subnet_id": SUBNET}}), "Ecs.0064"),
        (json!({"vpc_id": OTHER_VPC, "nic": {"subnet_id": "nope"}}), "Ecs.0038"),
        (json!({"vpc_id": OTHER_VPC, "nic": {"subnet_id": OTHER_SUBNET, "ip_address": "10.0.1.20"}}), "Ecs.0010"),
        (json!({"vpc_id": OTHER_VPC, "nic": {"subnet_id": OTHER_SUBNET, "ip_address": "10.0.2.1"}}), "Ecs.0039"),
        (
            json!({"vpc_id": OTHER_VPC, "nic": {"subnet_id": OTHER_SUBNET, "security_groups": [{"id": "x"}]}}),
            "Ecs.0014",
        ),
        (json!({"vpc_id": OTHER_VPC, "nic": {"port_id": wrong}}), "Ecs.0064"),
        (json!({"vpc_id": OTHER_VPC, "nic": {"port_id": "nope"}}), "Ecs.0307"),
        (json!({"vpc_id": OTHER_VPC, "nic": {}}), "Ecs.0005"),
        (json!({"vpc_id": OTHER_VPC}), "Ecs.0005"),
    ] {
        let (status, answer) = change_vpc(&ecs, &server, body.clone()).await;
        assert_error(status, &answer, 400, code);
    }
    let job = done(&ecs, add_nics(&ecs, &server, json!([{"subnet_id": SUBNET}])).await).await;
    assert_eq!(job["status"], "SUCCESS");
    let (status, answer) =
        change_vpc(&ecs, &server, json!({"vpc_id": OTHER_VPC, "nic": {"subnet_id": OTHER_SUBNET}})).await;
    assert_error(status, &answer, 400, "Ecs.0005");
    assert_eq!(port(&ecs, held["id"].as_str().expect("id")).await["status"], "DOWN");
    let (status, answer) = change_vpc(
        &ecs,
        "00000000-0000-4000-8000-000000000000",
        json!({"vpc_id": OTHER_VPC, "nic": {"subnet_id": OTHER_SUBNET}}),
    )
    .await;
    assert_error(status, &answer, 404, "Ecs.0114");

    // The held port of the other VPC, with the default group, moves a one-NIC server there.
    let lone = ecs.create_servers("lone", "s6.xlarge.2", 1).await.remove(0);
    let job =
        done(&ecs, change_vpc(&ecs, &lone, json!({"vpc_id": OTHER_VPC, "nic": {"port_id": held["id"]}})).await).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert_eq!(interfaces(&ecs, &lone).await[0]["port_id"], held["id"]);
    assert_eq!(interfaces(&ecs, &lone).await[0]["delete_on_termination"], false);
}

#[tokio::test]
async fn fault_rules_reach_the_nic_changes_and_a_failed_change_vpc_takes_its_port_back() {
    let ecs = TestServer::start().await;
    let server = ecs.create_servers("web", "s6.xlarge.2", 1).await.remove(0);
    let primary = interfaces(&ecs, &server).await[0]["port_id"].as_str().expect("id").to_string();
    let (status, body) = ecs
        .post(
            "/_ecsd/faults",
            json!({"operation": "nics", "count": 1, "effect": {"kind": "sub_job_fail", "code": "Ecs.0201"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let body = json!({"vpc_id": OTHER_VPC, "nic": {"subnet_id": OTHER_SUBNET, "ip_address": "10.0.1.30"}});
    let job = done(&ecs, change_vpc(&ecs, &server, body.clone()).await).await;
    assert_eq!((job["status"].clone(), job["error_code"].clone()), (json!("FAIL"), json!("Ecs.0201")), "{job}");
    let listed = interfaces(&ecs, &server).await;
    assert_eq!((listed.len(), listed[0]["port_id"].clone()), (1, json!(primary)), "the server stays where it was");
    let (_, ports) = ecs.get(&ecs.v1("/ports?fixed_ips=ip_address=10.0.1.30")).await;
    assert_eq!(ports["ports"], json!([]), "the port made for the move is gone");

    for (method, path, body) in [
        (
            Method::PUT,
            format!("/cloudservers/{server}/os-interface/{primary}"),
            json!({"interface_attachment": {"delete_on_termination": false}}),
        ),
        (
            Method::POST,
            format!("/cloudservers/{server}/os-interface/{primary}/change-network-interface"),
            json!({"subnet_id": SUBNET, "ip_address": ""}),
        ),
        (
            Method::PUT,
            format!("/cloudservers/nics/{primary}"),
            json!({"nic": {"subnet_id": SUBNET, "ip_address": "192.168.61.1"}}),
        ),
        (Method::PUT, format!("/cloudservers/nics/{primary}"), json!({"nic": {"subnet_id": "", "ip_address": ""}})),
        (Method::POST, format!("/cloudservers/{server}/changevpc"), body.clone()),
    ] {
        let (status, rule) = ecs
            .post(
                "/_ecsd/faults",
                json!({"operation": "nics", "count": 1, "effect": {"kind": "http_error", "status": 503, "code": "Ecs.0507"}}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{rule}");
        let (status, answer) = ecs.call(method, &ecs.v1(&path), Some(body)).await;
        assert_error(status, &answer, 503, "Ecs.0507");
    }
}

#[tokio::test]
async fn another_projects_nics_and_ports_are_out_of_reach() {
    let mut ecs = TestServer::start_with_two_projects().await;
    let server = ecs.create_servers("mine", "s6.xlarge.2", 1).await.remove(0);
    let primary = interfaces(&ecs, &server).await[0]["port_id"].as_str().expect("id").to_string();
    let free = new_port(&ecs, SUBNET, "192.168.80.1").await["id"].as_str().expect("id").to_string();
    ecs.credential = other_credential();
    let theirs = ecs.create_servers("theirs", "s6.xlarge.2", 1).await.remove(0);
    let (status, body) = add_nics(&ecs, &theirs, json!([{"port_id": free}])).await;
    assert_error(status, &body, 400, "Ecs.0307");
    let (status, body) = vip(&ecs, &primary, json!({"nic": {"subnet_id": SUBNET, "ip_address": "192.168.80.2"}})).await;
    assert_error(status, &body, 400, "Ecs.0307");
    let (status, body) = update_interface(&ecs, &server, &primary, false).await;
    assert_error(status, &body, 404, "Ecs.0114");
    let (status, body) = change_ip(&ecs, &server, &primary, json!({"subnet_id": SUBNET, "ip_address": ""})).await;
    assert_error(status, &body, 404, "Ecs.0114");
    let (status, body) =
        change_vpc(&ecs, &server, json!({"vpc_id": OTHER_VPC, "nic": {"subnet_id": OTHER_SUBNET}})).await;
    assert_error(status, &body, 404, "Ecs.0114");
    let mut body = create_body("taker", "s6.xlarge.2", 1);
    body["server"]["nics"] = json!([{"port_id": free}]);
    let (status, body) = ecs.post(&ecs.v1("/cloudservers"), body).await;
    assert_error(status, &body, 400, "Ecs.0307");
}
