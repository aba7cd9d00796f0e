//! Neutron v2.0 ports, security groups and their rules over the VPC API's stored objects: the
//! calls openstacksdk and the openstack CLI make, their codes (201, 204) and their refusals in
//! Neutron's shape, project by project.

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Asserts Neutron's error body with `kind`.
fn assert_neutron_error(status: StatusCode, body: &Value, expected_status: u16, kind: &str) {
    assert_eq!(status.as_u16(), expected_status, "status of {body}");
    assert_eq!(body["NeutronError"]["type"], kind, "type of {body}");
    assert!(body["NeutronError"]["message"].as_str().is_some_and(|m| !m.is_empty()), "a message: {body}");
    assert_eq!(body["NeutronError"]["detail"], "", "{body}");
}

async fn create_port(ecs: &TestServer, port: Value) -> Value {
    let (status, body) = ecs.post("/v2.0/ports", json!({ "port": port })).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["port"].clone()
}

#[tokio::test]
async fn ports_are_created_listed_by_filter_shown_updated_and_deleted() {
    let ecs = TestServer::start().await;
    let port = create_port(&ecs, json!({"network_id": SUBNET, "name": "vip", "admin_state_up": true})).await;
    let id = port["id"].as_str().expect("id").to_string();
    assert_eq!(port["network_id"], SUBNET);
    assert_eq!(port["status"], "DOWN");
    assert_eq!(port["project_id"], ecs.project());
    assert_eq!(port["fixed_ips"][0]["subnet_id"], SUBNET);
    let ip = port["fixed_ips"][0]["ip_address"].as_str().expect("ip").to_string();
    assert_eq!(port["security_groups"].as_array().map(Vec::len), Some(1), "the default group: {port}");
    let pinned = create_port(
        &ecs,
        json!({"network_id": SUBNET, "name": "pinned", "fixed_ips": [{"ip_address": "192.168.0.200"}],
               "security_groups": []}),
    )
    .await;
    assert_eq!(pinned["fixed_ips"][0]["ip_address"], "192.168.0.200");
    assert_eq!(pinned["security_groups"], json!([]));

    // The VPC API sees the same port.
    let (status, vpc) = ecs.get(&ecs.v1(&format!("/ports/{id}"))).await;
    assert_eq!((status, vpc["port"]["name"].clone()), (StatusCode::OK, json!("vip")), "{vpc}");

    for (query, expected) in [
        ("name=vip".to_string(), vec![id.clone()]),
        (format!("network_id={SUBNET}&name=pinned"), vec![pinned["id"].as_str().expect("id").to_string()]),
        (format!("fixed_ips=ip_address%3D{ip}"), vec![id.clone()]),
        ("device_id=".to_string() + "nobody", vec![]),
    ] {
        let (status, body) = ecs.get(&format!("/v2.0/ports?{query}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let ids: Vec<String> =
            body["ports"].as_array().expect("ports").iter().map(|p| p["id"].as_str().expect("id").into()).collect();
        assert_eq!(ids, expected, "{query}");
    }
    let (_, first) = ecs.get("/v2.0/ports?limit=1").await;
    assert_eq!(first["ports"].as_array().map(Vec::len), Some(1), "{first}");
    let next = first["ports_links"][0]["href"].as_str().expect("a next link").replace(&ecs.base, "");
    let (_, second) = ecs.get(&next).await;
    assert_eq!(second["ports"][0]["id"], pinned["id"], "{second}");

    let (status, shown) = ecs.get(&format!("/v2.0/ports/{id}")).await;
    assert_eq!((status, shown["port"]["id"].clone()), (StatusCode::OK, json!(id)));

    let (_, group) = ecs.post("/v2.0/security-groups", json!({"security_group": {"name": "web"}})).await;
    let group_id = group["security_group"]["id"].as_str().expect("id").to_string();
    let (status, updated) = ecs
        .put(
            &format!("/v2.0/ports/{id}"),
            json!({"port": {"name": "vip-2", "security_groups": [group_id],
                            "allowed_address_pairs": [{"ip_address": "1.1.1.1/0"}]}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["port"]["name"], "vip-2");
    assert_eq!(updated["port"]["security_groups"], json!([group_id]));
    assert_eq!(updated["port"]["allowed_address_pairs"][0]["ip_address"], "1.1.1.1/0");

    let (status, body) = ecs.call(Method::DELETE, &format!("/v2.0/ports/{id}"), None).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    let (status, body) = ecs.get(&format!("/v2.0/ports/{id}")).await;
    assert_neutron_error(status, &body, 404, "PortNotFound");
    let (status, body) = ecs.call(Method::DELETE, &format!("/v2.0/ports/{id}"), None).await;
    assert_neutron_error(status, &body, 404, "PortNotFound");
}

#[tokio::test]
async fn port_refusals_are_neutrons() {
    let ecs = TestServer::start().await;
    let (status, body) = ecs.post("/v2.0/ports", json!({"port": {"network_id": "no-such-network"}})).await;
    assert_neutron_error(status, &body, 404, "NetworkNotFound");
    let (status, body) = ecs.post("/v2.0/ports", json!({"port": {"name": "no network"}})).await;
    assert_neutron_error(status, &body, 400, "HTTPBadRequest");
    let (status, body) = ecs.call_raw(Method::POST, "/v2.0/ports", b"{not json".to_vec(), &[]).await;
    assert_neutron_error(status, &body, 400, "HTTPBadRequest");
    let outside = json!({"port": {"network_id": SUBNET, "fixed_ips": [{"ip_address": "10.9.9.9"}]}});
    let (status, body) = ecs.post("/v2.0/ports", outside).await;
    assert_neutron_error(status, &body, 400, "InvalidInput");
    let (status, body) =
        ecs.post("/v2.0/ports", json!({"port": {"network_id": SUBNET, "security_groups": ["no-such-group"]}})).await;
    assert_neutron_error(status, &body, 400, "InvalidInput");
    let taken = json!({"port": {"network_id": SUBNET, "fixed_ips": [{"ip_address": "192.168.0.50"}]}});
    let (status, _) = ecs.post("/v2.0/ports", taken.clone()).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = ecs.post("/v2.0/ports", taken).await;
    assert_neutron_error(status, &body, 409, "IpAddressAlreadyAllocated");
    let (status, body) = ecs.get("/v2.0/ports?fixed_ips=mac%3D1").await;
    assert_neutron_error(status, &body, 400, "InvalidInput");
    let (status, body) = ecs.get("/v2.0/ports?marker=no-such-port").await;
    assert_neutron_error(status, &body, 400, "InvalidInput");
    let (status, body) = ecs.put("/v2.0/ports/no-such-port", json!({"port": {"name": "x"}})).await;
    assert_neutron_error(status, &body, 404, "PortNotFound");

    // A server's NIC is in use: Neutron refuses to delete it here.
    let server = ecs.create_servers("web", "s6.small.1", 1).await.remove(0);
    let (_, nics) = ecs.get(&format!("/v2.0/ports?device_id={server}")).await;
    let nic = nics["ports"][0].clone();
    assert_eq!(nic["status"], "ACTIVE", "{nics}");
    assert!(nic["device_owner"].as_str().is_some_and(|o| o.starts_with("compute:")), "{nic}");
    let (status, body) =
        ecs.call(Method::DELETE, &format!("/v2.0/ports/{}", nic["id"].as_str().expect("id")), None).await;
    assert_neutron_error(status, &body, 409, "PortInUse");
}

#[tokio::test]
async fn security_groups_have_a_default_and_are_created_updated_and_deleted() {
    let ecs = TestServer::start().await;
    let (status, listed) = ecs.get("/v2.0/security-groups").await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let default = listed["security_groups"][0].clone();
    assert_eq!(
        (default["name"].clone(), listed["security_groups"].as_array().map(Vec::len)),
        (json!("default"), Some(1))
    );
    assert_eq!(default["security_group_rules"].as_array().map(Vec::len), Some(4), "{default}");

    let (status, made) =
        ecs.post("/v2.0/security-groups", json!({"security_group": {"name": "web", "description": "web tier"}})).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let group = made["security_group"].clone();
    let id = group["id"].as_str().expect("id").to_string();
    assert_eq!((group["description"].clone(), group["project_id"].clone()), (json!("web tier"), json!(ecs.project())));
    assert!(group["security_group_rules"].as_array().expect("rules").iter().all(|r| r["direction"] == "egress"));
    let (_, by_name) = ecs.get("/v2.0/security-groups?name=web").await;
    assert_eq!(by_name["security_groups"].as_array().map(Vec::len), Some(1), "{by_name}");

    let (status, updated) = ecs
        .put(&format!("/v2.0/security-groups/{id}"), json!({"security_group": {"name": "web-2", "description": "d"}}))
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(
        (updated["security_group"]["name"].clone(), updated["security_group"]["description"].clone()),
        (json!("web-2"), json!("d"))
    );
    let (_, shown) = ecs.get(&format!("/v2.0/security-groups/{id}")).await;
    assert_eq!(shown["security_group"]["name"], "web-2");

    let default_id = default["id"].as_str().expect("id");
    let (status, body) =
        ecs.put(&format!("/v2.0/security-groups/{default_id}"), json!({"security_group": {"name": "x"}})).await;
    assert_neutron_error(status, &body, 409, "SecurityGroupInUse");
    let (status, body) = ecs.call(Method::DELETE, &format!("/v2.0/security-groups/{default_id}"), None).await;
    assert_neutron_error(status, &body, 409, "SecurityGroupInUse");
    let (status, body) = ecs.post("/v2.0/security-groups", json!({"security_group": {"name": ""}})).await;
    assert_neutron_error(status, &body, 400, "InvalidInput");
    let (status, body) =
        ecs.put(&format!("/v2.0/security-groups/{id}"), json!({"security_group": {"description": "<b>"}})).await;
    assert_neutron_error(status, &body, 400, "InvalidInput");

    // A group a port carries is in use.
    let port = create_port(&ecs, json!({"network_id": SUBNET, "security_groups": [id]})).await;
    let (status, body) = ecs.call(Method::DELETE, &format!("/v2.0/security-groups/{id}"), None).await;
    assert_neutron_error(status, &body, 409, "SecurityGroupInUse");
    ecs.call(Method::DELETE, &format!("/v2.0/ports/{}", port["id"].as_str().expect("id")), None).await;
    let (status, _) = ecs.call(Method::DELETE, &format!("/v2.0/security-groups/{id}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = ecs.get(&format!("/v2.0/security-groups/{id}")).await;
    assert_neutron_error(status, &body, 404, "SecurityGroupNotFound");
    let (status, body) =
        ecs.put(&format!("/v2.0/security-groups/{id}"), json!({"security_group": {"name": "y"}})).await;
    assert_neutron_error(status, &body, 404, "SecurityGroupNotFound");
}

#[tokio::test]
async fn rules_are_created_listed_shown_and_deleted() {
    let ecs = TestServer::start().await;
    let (_, made) = ecs.post("/v2.0/security-groups", json!({"security_group": {"name": "ssh"}})).await;
    let group = made["security_group"]["id"].as_str().expect("id").to_string();
    let ssh = json!({"security_group_rule": {"security_group_id": group, "direction": "ingress", "ethertype": "IPv4",
                     "protocol": "tcp", "port_range_min": 22, "port_range_max": 22,
                     "remote_ip_prefix": "0.0.0.0/0", "description": null}});
    let (status, rule) = ecs.post("/v2.0/security-group-rules", ssh.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{rule}");
    let rule = rule["security_group_rule"].clone();
    let id = rule["id"].as_str().expect("id").to_string();
    assert_eq!((rule["protocol"].clone(), rule["port_range_min"].clone()), (json!("tcp"), json!(22)));
    let (status, body) = ecs.post("/v2.0/security-group-rules", ssh).await;
    assert_neutron_error(status, &body, 409, "SecurityGroupRuleExists");

    let (_, listed) = ecs.get(&format!("/v2.0/security-group-rules?security_group_id={group}&direction=ingress")).await;
    assert_eq!(listed["security_group_rules"].as_array().map(Vec::len), Some(1), "{listed}");
    let (_, egress) = ecs.get(&format!("/v2.0/security-group-rules?security_group_id={group}&direction=egress")).await;
    assert_eq!(egress["security_group_rules"].as_array().map(Vec::len), Some(2), "{egress}");
    let (status, shown) = ecs.get(&format!("/v2.0/security-group-rules/{id}")).await;
    assert_eq!((status, shown["security_group_rule"]["id"].clone()), (StatusCode::OK, json!(id)));
    let (_, group_doc) = ecs.get(&format!("/v2.0/security-groups/{group}")).await;
    assert_eq!(group_doc["security_group"]["security_group_rules"].as_array().map(Vec::len), Some(3));

    for bad in [
        json!({"security_group_rule": {"security_group_id": group, "direction": "sideways"}}),
        json!({"security_group_rule": {"direction": "ingress"}}),
    ] {
        let (status, body) = ecs.post("/v2.0/security-group-rules", bad).await;
        assert_neutron_error(status, &body, 400, "HTTPBadRequest");
    }
    for bad in [
        json!({"security_group_rule": {"security_group_id": group, "direction": "ingress", "protocol": "tcp",
                                       "port_range_min": 90, "port_range_max": 80}}),
        json!({"security_group_rule": {"security_group_id": "no-such-group", "direction": "ingress"}}),
    ] {
        let (status, body) = ecs.post("/v2.0/security-group-rules", bad).await;
        assert_neutron_error(status, &body, 400, "InvalidInput");
    }

    let (status, _) = ecs.call(Method::DELETE, &format!("/v2.0/security-group-rules/{id}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = ecs.get(&format!("/v2.0/security-group-rules/{id}")).await;
    assert_neutron_error(status, &body, 404, "SecurityGroupRuleNotFound");
    let (status, body) = ecs.call(Method::DELETE, &format!("/v2.0/security-group-rules/{id}"), None).await;
    assert_neutron_error(status, &body, 404, "SecurityGroupRuleNotFound");
}

#[tokio::test]
async fn another_projects_ports_and_groups_are_not_found() {
    let mut ecs = TestServer::start_with_two_projects().await;
    let port = create_port(&ecs, json!({"network_id": SUBNET, "name": "mine"})).await;
    let (_, made) = ecs.post("/v2.0/security-groups", json!({"security_group": {"name": "mine"}})).await;
    let group = made["security_group"]["id"].as_str().expect("id").to_string();
    let port_id = port["id"].as_str().expect("id").to_string();
    ecs.credential = other_credential();
    let (_, ports) = ecs.get("/v2.0/ports").await;
    assert_eq!(ports["ports"], json!([]), "{ports}");
    let (status, body) = ecs.get(&format!("/v2.0/ports/{port_id}")).await;
    assert_neutron_error(status, &body, 404, "PortNotFound");
    let (status, body) = ecs.call(Method::DELETE, &format!("/v2.0/ports/{port_id}"), None).await;
    assert_neutron_error(status, &body, 404, "PortNotFound");
    let (status, body) =
        ecs.put(&format!("/v2.0/security-groups/{group}"), json!({"security_group": {"name": "x"}})).await;
    assert_neutron_error(status, &body, 404, "SecurityGroupNotFound");
    let (_, groups) = ecs.get("/v2.0/security-groups").await;
    let names: Vec<&Value> = groups["security_groups"].as_array().expect("groups").iter().map(|g| &g["name"]).collect();
    assert_eq!(names, vec![&json!("default")], "its own default group only: {groups}");
    let (status, body) =
        ecs.post("/v2.0/ports", json!({"port": {"network_id": SUBNET, "security_groups": [group]}})).await;
    assert_neutron_error(status, &body, 400, "InvalidInput");
}

#[tokio::test]
async fn the_extensions_served_are_listed_and_others_not_found() {
    let ecs = TestServer::start().await;
    let (status, body) = ecs.get("/v2.0/extensions").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let aliases: Vec<&str> =
        body["extensions"].as_array().expect("extensions").iter().filter_map(|e| e["alias"].as_str()).collect();
    assert!(aliases.contains(&"security-group") && aliases.contains(&"allowed-address-pairs"), "{body}");
    let (status, body) = ecs.get("/v2.0/extensions/port-security").await;
    assert_eq!((status, body["extension"]["alias"].clone()), (StatusCode::OK, json!("port-security")));
    let (status, body) = ecs.get("/v2.0/extensions/tag-ports-during-bulk-creation").await;
    assert_neutron_error(status, &body, 404, "HTTPNotFound");
}

#[tokio::test]
async fn fault_rules_fail_neutron_calls_in_neutrons_shape() {
    let ecs = TestServer::start().await;
    let rule =
        json!({"operation": "port", "count": 1, "effect": {"kind": "http_error", "status": 503, "code": "Boom"}});
    let (status, body) = ecs.post("/_ecsd/faults", rule).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = ecs.post("/v2.0/ports", json!({"port": {"network_id": SUBNET}})).await;
    assert_neutron_error(status, &body, 503, "Boom");
    let (status, _) = ecs.post("/v2.0/ports", json!({"port": {"network_id": SUBNET}})).await;
    assert_eq!(status, StatusCode::CREATED, "the rule fired once");
}

/// `limit=0` is no paging, as Neutron reads it; a filter given twice is refused, not half-read.
#[tokio::test]
async fn a_zero_limit_lists_everything_and_a_repeated_filter_is_refused() {
    let ecs = TestServer::start().await;
    for name in ["a", "b", "c"] {
        create_port(&ecs, json!({"network_id": SUBNET, "name": name})).await;
    }
    let (status, all) = ecs.get("/v2.0/ports?limit=0").await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_eq!(all["ports"].as_array().map(Vec::len), Some(3), "{all}");
    assert!(all["ports_links"].as_array().is_none_or(Vec::is_empty), "{all}");
    let (status, body) = ecs.get("/v2.0/security-groups?name=default&name=web").await;
    assert_neutron_error(status, &body, 400, "HTTPBadRequest");
    // The field selection repeats by design (the openstack CLI sends it so).
    let (status, body) = ecs.get("/v2.0/security-groups?fields=id&fields=name&name=default").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["security_groups"].as_array().map(Vec::len), Some(1), "{body}");
}
