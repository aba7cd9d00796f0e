//! The VPC API: ShowVpc, ShowSubnet, ports (ListPorts, CreatePort, ShowPort, UpdatePort,
//! DeletePort), private IPs, security groups and their rules, each with its refusals in the
//! VPC error shape; the ports and groups of servers; project isolation, reset and snapshots.

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Asserts a VPC error body (`{"code", "message"}`) and returns its message.
pub fn assert_vpc_error(status: StatusCode, body: &Value, expected_status: u16, code: &str) -> String {
    assert_eq!(status.as_u16(), expected_status, "status of {body}");
    assert_eq!(body["code"], code, "code of {body}");
    body["message"].as_str().expect("message").to_string()
}

pub async fn ports_of(ecs: &TestServer, server_id: &str) -> Vec<Value> {
    let (status, body) = ecs.get(&ecs.v1(&format!("/ports?device_id={server_id}&limit=100"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["ports"].as_array().expect("ports").clone()
}

async fn create_group(ecs: &TestServer, name: &str) -> Value {
    let (status, body) = ecs.post(&ecs.v1("/security-groups"), json!({"security_group": {"name": name}})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["security_group"].clone()
}

async fn groups(ecs: &TestServer) -> Vec<Value> {
    let (status, body) = ecs.get(&ecs.v1("/security-groups?enterprise_project_id=all_granted_eps")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["security_groups"].as_array().expect("groups").clone()
}

async fn delete(ecs: &TestServer, path: &str) -> (StatusCode, Value) {
    ecs.call(Method::DELETE, &ecs.v1(path), None).await
}

#[tokio::test]
async fn vpcs_and_subnets_are_shown_by_id() {
    let ecs = TestServer::start().await;
    let (status, body) = ecs.get(&ecs.v1(&format!("/vpcs/{VPC}"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["vpc"]["id"], VPC);
    assert_eq!(body["vpc"]["status"], "OK");

    let (status, body) = ecs.get(&ecs.v1(&format!("/subnets/{SUBNET}"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["subnet"]["vpc_id"], VPC, "what Terraform reads the VPC from");
    let free = body["subnet"]["available_ip_address_count"].as_u64().expect("count");
    ecs.create_servers("one", "s6.small.1", 1).await;
    let (_, body) = ecs.get(&ecs.v1(&format!("/subnets/{SUBNET}"))).await;
    assert_eq!(body["subnet"]["available_ip_address_count"].as_u64(), Some(free - 1), "a NIC holds an address");

    let (status, body) = ecs.get(&ecs.v1("/vpcs/4b9e6d1a-7c2f-4e8a-b5d0-0a1b2c3d4e09")).await;
    assert_vpc_error(status, &body, 404, "VPC.0003");
    let (status, body) = ecs.get(&ecs.v1("/subnets/4b9e6d1a-7c2f-4e8a-b5d0-0a1b2c3d4e09")).await;
    assert_vpc_error(status, &body, 404, "VPC.0202");
    let (status, body) = ecs.get(&ecs.v1("/subnets?vpc_id=1&vpc_id=2")).await;
    assert_vpc_error(status, &body, 400, "VPC.0101");
}

#[tokio::test]
async fn a_server_sits_on_ports_with_the_default_group() {
    let ecs = TestServer::start().await;
    let id = ecs.create_servers("web", "s6.small.1", 1).await.remove(0);
    let server = ecs.server(&id).await;
    let address = &server["addresses"][VPC][0];
    let ports = ports_of(&ecs, &id).await;
    assert_eq!(ports.len(), 1, "{ports:?}");
    let port = &ports[0];
    assert_eq!(port["id"], address["OS-EXT-IPS:port_id"]);
    assert_eq!(port["mac_address"], address["OS-EXT-IPS-MAC:mac_addr"]);
    assert_eq!(port["fixed_ips"][0]["ip_address"], address["addr"]);
    assert_eq!(port["fixed_ips"][0]["subnet_id"], SUBNET);
    assert_eq!(port["network_id"], SUBNET);
    assert_eq!(port["device_id"], id.as_str());
    assert_eq!(port["device_owner"], "compute:eu-de-01");
    assert_eq!(port["status"], "ACTIVE");
    assert_eq!(port["binding:vif_details"]["primary_interface"], true);
    assert_eq!(port["allowed_address_pairs"], json!([]));

    let default = groups(&ecs).await.into_iter().find(|g| g["name"] == "default").expect("the default group");
    assert_eq!(port["security_groups"], json!([default["id"]]));
    assert_eq!(server["security_groups"], json!([{"id": default["id"], "name": "default"}]));
    assert_eq!(default["security_group_rules"].as_array().map(Vec::len), Some(4));

    let (status, shown) = ecs.get(&ecs.v1(&format!("/ports/{}", port["id"].as_str().expect("id")))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&shown["port"], port);
    let (status, body) = delete(&ecs, &format!("/ports/{}", port["id"].as_str().expect("id"))).await;
    assert_vpc_error(status, &body, 400, "VPC.2500");
}

#[tokio::test]
async fn a_server_can_be_created_in_named_groups_and_unknown_ones_are_refused() {
    let ecs = TestServer::start().await;
    let web = create_group(&ecs, "web").await;
    let mut body = create_body("in-web", "s6.small.1", 1);
    body["server"]["security_groups"] = json!([{"id": web["id"]}]);
    body["server"]["nics"] = json!([{"subnet_id": SUBNET}, {"subnet_id": SUBNET}]);
    let id = ecs.create_from(body.clone()).await.remove(0);
    let server = ecs.server(&id).await;
    assert_eq!(server["security_groups"], json!([{"id": web["id"], "name": "web"}]));
    let ports = ports_of(&ecs, &id).await;
    assert_eq!(ports.len(), 2);
    assert!(ports.iter().all(|p| p["security_groups"] == json!([web["id"]])), "{ports:?}");
    let addresses = server["addresses"][VPC].as_array().expect("addresses");
    for (port, address) in ports.iter().zip(addresses) {
        assert_eq!(port["id"], address["OS-EXT-IPS:port_id"], "ports in NIC order");
    }

    body["server"]["security_groups"] = json!([{"id": "0b3c5e7a-0000-4000-8000-000000000000"}]);
    let (status, answer) = ecs.post(&ecs.v1("/cloudservers"), body).await;
    assert_error(status, &answer, 400, "Ecs.0014");

    let (status, answer) = delete(&ecs, &format!("/security-groups/{}", web["id"].as_str().expect("id"))).await;
    assert_vpc_error(status, &answer, 409, "VPC.0602");
    let job = ecs.delete(std::slice::from_ref(&id)).await;
    assert_eq!(job["status"], "SUCCESS");
    assert_eq!(ports_of(&ecs, &id).await, Vec::<Value>::new(), "the server's ports go with it");
    let (status, _) = delete(&ecs, &format!("/security-groups/{}", web["id"].as_str().expect("id"))).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "no port carries it any more");
}

#[tokio::test]
async fn ports_are_created_updated_listed_and_deleted() {
    let ecs = TestServer::start().await;
    let (status, body) = ecs
        .post(
            &ecs.v1("/ports"),
            json!({"port": {"name": "vip", "network_id": SUBNET, "fixed_ips": [{"ip_address": "192.168.7.7"}],
                   "device_owner": "neutron:VIP_PORT"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let port = body["port"].clone();
    let port_id = port["id"].as_str().expect("id").to_string();
    assert_eq!(port["fixed_ips"][0]["ip_address"], "192.168.7.7");
    assert_eq!(port["status"], "DOWN");
    assert_eq!(port["device_id"], "");
    assert_eq!(port["security_groups"].as_array().map(Vec::len), Some(1), "the default group");

    let (status, body) = ecs
        .post(&ecs.v1("/ports"), json!({"port": {"network_id": SUBNET, "fixed_ips": [{"ip_address": "192.168.7.7"}]}}))
        .await;
    assert_vpc_error(status, &body, 409, "VPC.0701");
    let (status, body) = ecs
        .post(&ecs.v1("/ports"), json!({"port": {"network_id": SUBNET, "fixed_ips": [{"ip_address": "10.9.9.9"}]}}))
        .await;
    assert_vpc_error(status, &body, 400, "VPC.2500");
    let (status, body) = ecs.post(&ecs.v1("/ports"), json!({"port": {"network_id": "nope"}})).await;
    assert_vpc_error(status, &body, 400, "VPC.2500");
    let (status, body) =
        ecs.post(&ecs.v1("/ports"), json!({"port": {"network_id": SUBNET, "security_groups": ["nope"]}})).await;
    assert_vpc_error(status, &body, 400, "VPC.0601");
    let (status, body) = ecs.post(&ecs.v1("/ports"), json!({"port": {"name": "no network"}})).await;
    assert_vpc_error(status, &body, 400, "VPC.0101");
    let (status, body) = ecs.call_raw(Method::POST, &ecs.v1("/ports"), b"{".to_vec(), &[]).await;
    assert_vpc_error(status, &body, 400, "VPC.0101");

    let web = create_group(&ecs, "web").await;
    let (status, body) = ecs
        .put(
            &ecs.v1(&format!("/ports/{port_id}")),
            json!({"port": {"name": "vip-2", "security_groups": [web["id"]],
                   "allowed_address_pairs": [{"ip_address": "1.1.1.1/0"}]}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["port"]["name"], "vip-2");
    assert_eq!(body["port"]["security_groups"], json!([web["id"]]));
    assert_eq!(
        body["port"]["allowed_address_pairs"],
        json!([{"ip_address": "1.1.1.1/0", "mac_address": port["mac_address"]}])
    );
    assert_eq!(body["port"]["mac_address"], port["mac_address"], "a port keeps its MAC");
    let (status, body) = ecs
        .put(&ecs.v1(&format!("/ports/{port_id}")), json!({"port": {"allowed_address_pairs": [{"ip_address": "x"}]}}))
        .await;
    assert_vpc_error(status, &body, 400, "VPC.2500");

    let server = ecs.create_servers("web", "s6.small.1", 1).await.remove(0);
    let filtered = |query: String| {
        let ecs = &ecs;
        async move {
            let (status, body) = ecs.get(&ecs.v1(&format!("/ports?{query}"))).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            body["ports"]
                .as_array()
                .expect("ports")
                .iter()
                .map(|p| p["id"].as_str().expect("id").to_string())
                .collect::<Vec<_>>()
        }
    };
    let server_port = ports_of(&ecs, &server).await[0]["id"].as_str().expect("id").to_string();
    assert_eq!(filtered(String::new()).await, vec![port_id.clone(), server_port.clone()]);
    assert_eq!(filtered("fixed_ips=ip_address%3D192.168.7.7".into()).await, vec![port_id.clone()]);
    assert_eq!(filtered(format!("fixed_ips=subnet_id%3D{SUBNET}&status=ACTIVE")).await, vec![server_port.clone()]);
    assert_eq!(filtered(format!("security_groups={}", web["id"].as_str().expect("id"))).await, vec![port_id.clone()]);
    assert_eq!(filtered("name=vip-2".into()).await, vec![port_id.clone()]);
    assert_eq!(filtered("limit=1".into()).await, vec![port_id.clone()]);
    assert_eq!(filtered(format!("limit=1&marker={port_id}")).await, vec![server_port.clone()]);
    assert_eq!(filtered("device_owner=neutron:VIP_PORT".into()).await, vec![port_id.clone()]);
    let (status, body) = ecs.get(&ecs.v1("/ports?fixed_ips=mac%3D1")).await;
    assert_vpc_error(status, &body, 400, "VPC.2500");
    let (status, body) = ecs.get(&ecs.v1("/ports?limit=0")).await;
    assert_vpc_error(status, &body, 400, "VPC.0101");
    let (status, body) = ecs.get(&ecs.v1("/ports?marker=nope")).await;
    assert_vpc_error(status, &body, 400, "VPC.0101");

    let (status, _) = delete(&ecs, &format!("/ports/{port_id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = ecs.get(&ecs.v1(&format!("/ports/{port_id}"))).await;
    assert_vpc_error(status, &body, 404, "VPC.2501");
    let (status, body) = delete(&ecs, &format!("/ports/{port_id}")).await;
    assert_vpc_error(status, &body, 404, "VPC.2501");
    let (status, body) = ecs.put(&ecs.v1(&format!("/ports/{port_id}")), json!({"port": {"name": "x"}})).await;
    assert_vpc_error(status, &body, 404, "VPC.2501");
    let (status, body) = ecs
        .post(&ecs.v1("/ports"), json!({"port": {"network_id": SUBNET, "fixed_ips": [{"ip_address": "192.168.7.7"}]}}))
        .await;
    assert_eq!(status, StatusCode::OK, "the address is free again: {body}");
}

#[tokio::test]
async fn updating_a_nics_groups_changes_the_servers() {
    let ecs = TestServer::start().await;
    let server = ecs.create_servers("web", "s6.small.1", 1).await.remove(0);
    let db = create_group(&ecs, "db").await;
    let port = ports_of(&ecs, &server).await[0]["id"].as_str().expect("id").to_string();
    let (status, body) =
        ecs.put(&ecs.v1(&format!("/ports/{port}")), json!({"port": {"security_groups": [db["id"]]}})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(ecs.server(&server).await["security_groups"], json!([{"id": db["id"], "name": "db"}]));
}

#[tokio::test]
async fn security_groups_and_rules_are_managed_and_refused_in_the_vpc_shape() {
    let ecs = TestServer::start().await;
    let before = groups(&ecs).await;
    assert_eq!(before.len(), 1, "only the default group: {before:?}");
    let default = &before[0];
    assert_eq!(groups(&ecs).await.len(), 1, "the default group is made once");

    let web = create_group(&ecs, "web").await;
    let web_id = web["id"].as_str().expect("id").to_string();
    let rules = web["security_group_rules"].as_array().expect("rules");
    assert_eq!(rules.len(), 2);
    assert!(rules.iter().all(|r| r["direction"] == "egress"), "{rules:?}");

    let rule = json!({"security_group_rule": {"security_group_id": web_id, "direction": "ingress",
        "protocol": "tcp", "port_range_min": 22, "port_range_max": 22, "remote_ip_prefix": "0.0.0.0/0"}});
    let (status, body) = ecs.post(&ecs.v1("/security-group-rules"), rule.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let created = body["security_group_rule"].clone();
    assert_eq!(created["ethertype"], "IPv4");
    assert_eq!(created["port_range_min"], 22);
    let rule_id = created["id"].as_str().expect("id").to_string();
    let (status, body) = ecs.post(&ecs.v1("/security-group-rules"), rule.clone()).await;
    assert_vpc_error(status, &body, 409, "VPC.0604");

    for bad in [
        json!({"security_group_id": web_id, "direction": "ingress", "protocol": "tcp", "port_range_min": 80, "port_range_max": 22}),
        json!({"security_group_id": web_id, "direction": "ingress", "ethertype": "IPv5"}),
        json!({"security_group_id": web_id, "direction": "ingress", "remote_ip_prefix": "300.0.0.0/8"}),
        json!({"security_group_id": web_id, "direction": "ingress", "remote_group_id": "nope"}),
        json!({"security_group_id": "nope", "direction": "ingress"}),
    ] {
        let (status, body) = ecs.post(&ecs.v1("/security-group-rules"), json!({"security_group_rule": bad})).await;
        assert_vpc_error(status, &body, 400, "VPC.0601");
    }
    let (status, body) = ecs
        .post(
            &ecs.v1("/security-group-rules"),
            json!({"security_group_rule": {"security_group_id": web_id, "direction": "sideways"}}),
        )
        .await;
    assert_vpc_error(status, &body, 400, "VPC.0101");

    let (status, body) = ecs.get(&ecs.v1(&format!("/security-group-rules/{rule_id}"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["security_group_rule"], created);
    let (status, body) = ecs.get(&ecs.v1(&format!("/security-group-rules?security_group_id={web_id}"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["security_group_rules"].as_array().map(Vec::len), Some(3));
    let (_, body) = ecs.get(&ecs.v1("/security-group-rules?remote_ip_prefix=0.0.0.0/0")).await;
    assert_eq!(body["security_group_rules"].as_array().map(Vec::len), Some(1));
    let (status, body) = ecs.get(&ecs.v1(&format!("/security-groups/{web_id}"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["security_group"]["security_group_rules"].as_array().map(Vec::len), Some(3));

    let (status, _) = delete(&ecs, &format!("/security-group-rules/{rule_id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = delete(&ecs, &format!("/security-group-rules/{rule_id}")).await;
    assert_vpc_error(status, &body, 404, "VPC.0603");
    let (status, body) = ecs.get(&ecs.v1(&format!("/security-group-rules/{rule_id}"))).await;
    assert_vpc_error(status, &body, 404, "VPC.0603");

    let (status, body) = ecs.post(&ecs.v1("/security-groups"), json!({"security_group": {"name": ""}})).await;
    assert_vpc_error(status, &body, 400, "VPC.0601");
    let (status, body) =
        ecs.post(&ecs.v1("/security-groups"), json!({"security_group": {"name": "x", "vpc_id": "nope"}})).await;
    assert_vpc_error(status, &body, 400, "VPC.0601");
    let (status, body) = delete(&ecs, &format!("/security-groups/{}", default["id"].as_str().expect("id"))).await;
    assert_vpc_error(status, &body, 409, "VPC.0602");

    // A group another group's rule lets in is in use.
    let db = create_group(&ecs, "db").await;
    let from_web = json!({"security_group_rule": {"security_group_id": db["id"], "direction": "ingress", "remote_group_id": web_id}});
    let (status, _) = ecs.post(&ecs.v1("/security-group-rules"), from_web).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = delete(&ecs, &format!("/security-groups/{web_id}")).await;
    assert_vpc_error(status, &body, 409, "VPC.0602");
    let (status, _) = delete(&ecs, &format!("/security-groups/{}", db["id"].as_str().expect("id"))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = delete(&ecs, &format!("/security-groups/{web_id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = ecs.get(&ecs.v1(&format!("/security-groups/{web_id}"))).await;
    assert_vpc_error(status, &body, 404, "VPC.0602");
    let (_, body) = ecs.get(&ecs.v1(&format!("/security-group-rules?security_group_id={web_id}"))).await;
    assert_eq!(body["security_group_rules"], json!([]), "a group's rules go with it");

    let (_, body) = ecs.get(&ecs.v1("/security-groups?enterprise_project_id=1234&limit=5")).await;
    assert_eq!(body["security_groups"], json!([]));
    let (status, body) = ecs.get(&ecs.v1("/security-groups?limit=x")).await;
    assert_vpc_error(status, &body, 400, "VPC.0101");
}

#[tokio::test]
async fn private_ips_are_the_addresses_ports_hold() {
    let ecs = TestServer::start().await;
    let server = ecs.create_servers("web", "s6.small.1", 1).await.remove(0);
    let server_ip = ecs.server(&server).await["addresses"][VPC][0]["addr"].clone();
    let (status, body) = ecs
        .post(
            &ecs.v1("/privateips"),
            json!({"privateips": [{"subnet_id": SUBNET, "ip_address": "192.168.9.9"}, {"subnet_id": SUBNET}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let made = body["privateips"].as_array().expect("privateips").clone();
    assert_eq!(made[0]["ip_address"], "192.168.9.9");
    assert_eq!(made[0]["status"], "DOWN");
    assert_eq!(made[0]["device_owner"], "");
    assert_ne!(made[1]["ip_address"], server_ip, "the lowest free address");

    let (status, body) = ecs.get(&ecs.v1(&format!("/subnets/{SUBNET}/privateips"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let listed = body["privateips"].as_array().expect("privateips");
    assert_eq!(listed.len(), 3);
    let held = listed.iter().find(|p| p["ip_address"] == server_ip).expect("the server's");
    assert_eq!(held["device_owner"], "compute:eu-de-01");
    assert_eq!(held["status"], "ACTIVE");

    let id = made[0]["id"].as_str().expect("id");
    let (status, body) = ecs.get(&ecs.v1(&format!("/privateips/{id}"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["privateip"], made[0]);
    let (status, body) = delete(&ecs, &format!("/privateips/{}", held["id"].as_str().expect("id"))).await;
    assert_vpc_error(status, &body, 400, "VPC.2500");
    let (status, _) = delete(&ecs, &format!("/privateips/{id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = ecs.get(&ecs.v1(&format!("/privateips/{id}"))).await;
    assert_vpc_error(status, &body, 404, "VPC.0702");

    let (status, body) = ecs
        .post(
            &ecs.v1("/privateips"),
            json!({"privateips": [{"subnet_id": SUBNET}, {"subnet_id": SUBNET, "ip_address": server_ip}]}),
        )
        .await;
    assert_vpc_error(status, &body, 409, "VPC.0701");
    let (_, body) = ecs.get(&ecs.v1(&format!("/subnets/{SUBNET}/privateips"))).await;
    assert_eq!(body["privateips"].as_array().map(Vec::len), Some(2), "all or none");
    let (status, body) = ecs.post(&ecs.v1("/privateips"), json!({"privateips": [{"subnet_id": "nope"}]})).await;
    assert_vpc_error(status, &body, 404, "VPC.0202");
    let (status, body) = ecs.post(&ecs.v1("/privateips"), json!({"privateips": []})).await;
    assert_vpc_error(status, &body, 400, "VPC.0101");
    let (status, body) = ecs.get(&ecs.v1("/subnets/nope/privateips")).await;
    assert_vpc_error(status, &body, 404, "VPC.0202");
}

#[tokio::test]
async fn another_projects_ports_and_groups_are_invisible() {
    let mut ecs = TestServer::start_with_two_projects().await;
    let server = ecs.create_servers("mine", "s6.small.1", 1).await.remove(0);
    let port = ports_of(&ecs, &server).await[0]["id"].as_str().expect("id").to_string();
    let group = create_group(&ecs, "mine").await["id"].as_str().expect("id").to_string();
    ecs.credential = other_credential();
    let (status, body) = ecs.get(&ecs.v1(&format!("/ports/{port}"))).await;
    assert_vpc_error(status, &body, 404, "VPC.2501");
    let (status, body) = ecs.get(&ecs.v1(&format!("/security-groups/{group}"))).await;
    assert_vpc_error(status, &body, 404, "VPC.0602");
    assert_eq!(ports_of(&ecs, &server).await, Vec::<Value>::new());
    assert!(groups(&ecs).await.iter().all(|g| g["id"] != group.as_str()));
    let (status, body) =
        ecs.post(&ecs.v1("/ports"), json!({"port": {"network_id": SUBNET, "security_groups": [group]}})).await;
    assert_vpc_error(status, &body, 400, "VPC.0601");
    // The path names the first project: the credential is the other's.
    let (status, body) = ecs.get(&format!("/v1/{}/ports", test_credential().project_id)).await;
    assert_eq!(status.as_u16() / 100, 4, "{body}");
    assert!(body["code"].as_str().is_some_and(|c| c.starts_with("VPC.")), "{body}");
}

#[tokio::test]
async fn reset_and_snapshots_cover_ports_and_groups() {
    let ecs = TestServer::start().await;
    create_group(&ecs, "kept").await;
    let (status, _) = ecs.post(&ecs.v1("/ports"), json!({"port": {"network_id": SUBNET}})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = ecs.post("/_ecsd/snapshots", json!({"name": "net"})).await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, ports_before) = ecs.get(&ecs.v1("/ports")).await;
    let groups_before = groups(&ecs).await;

    let (status, _) = ecs.post("/_ecsd/reset", json!({"project_id": ecs.project()})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(ecs.get(&ecs.v1("/ports")).await.1, json!({"ports": []}));
    assert_eq!(groups(&ecs).await.len(), 1, "a fresh default group only");

    let (status, _) = ecs.post("/_ecsd/snapshots/net/restore", json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(ecs.get(&ecs.v1("/ports")).await.1, ports_before);
    assert_eq!(groups(&ecs).await, groups_before);
}

#[tokio::test]
async fn request_faults_of_vpc_operations_answer_in_the_vpc_shape() {
    let ecs = TestServer::start().await;
    let (status, body) = ecs
        .post(
            "/_ecsd/faults",
            json!({"operation": "port", "count": 1, "effect": {"kind": "http_error", "status": 503, "code": "VPC.9999"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = ecs.post(&ecs.v1("/ports"), json!({"port": {"network_id": SUBNET}})).await;
    assert_vpc_error(status, &body, 503, "VPC.9999");
    let (status, _) = ecs.post(&ecs.v1("/ports"), json!({"port": {"network_id": SUBNET}})).await;
    assert_eq!(status, StatusCode::OK, "the rule fired once");
}
