//! ECS groups and placement: CreateServerGroup, DeleteServerGroup, ListServerGroups,
//! ShowServerGroup, Add/DeleteServerGroupMember, BatchAdd/BatchDeleteServerGroupMember, and
//! where servers run.

use std::collections::BTreeSet;

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Three hosts a zone, small enough to fill: 8 vCPUs and 16 GiB each.
const THREE_HOSTS: &str = "[placement]\nhosts_per_zone = 3\nhost_vcpus = 8\nhost_ram_mib = 16384\n";

async fn create_group(ecs: &TestServer, name: &str) -> String {
    let (status, body) = ecs
        .post(
            &ecs.v1("/cloudservers/os-server-groups"),
            json!({"server_group": {"name": name, "policies": ["anti-affinity"]}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["server_group"]["id"].as_str().expect("id").to_string()
}

async fn group(ecs: &TestServer, id: &str) -> Value {
    let (status, body) = ecs.get(&ecs.v1(&format!("/cloudservers/os-server-groups/{id}"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["server_group"].clone()
}

async fn member_action(ecs: &TestServer, group: &str, action: &str, server: &str) -> (StatusCode, Value) {
    ecs.post(
        &ecs.v1(&format!("/cloudservers/os-server-groups/{group}/action")),
        json!({ action: {"instance_uuid": server} }),
    )
    .await
}

fn in_group(name: &str, group: &str, count: u32) -> Value {
    let mut body = create_body(name, "s6.small.1", count);
    body["server"]["availability_zone"] = json!("eu-de-01");
    body["server"]["os:scheduler_hints"] = json!({"group": group});
    body
}

async fn hosts_of(ecs: &TestServer, ids: &[String]) -> Vec<String> {
    let mut hosts = Vec::new();
    for id in ids {
        hosts.push(ecs.server(id).await["OS-EXT-SRV-ATTR:host"].as_str().expect("host").to_string());
    }
    hosts
}

#[tokio::test]
async fn a_group_is_created_shown_listed_and_deleted() {
    let ecs = TestServer::start().await;
    let (status, body) = ecs
        .post(
            &ecs.v1("/cloudservers/os-server-groups"),
            json!({"server_group": {"name": "web", "policies": ["anti-affinity"]}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let id = body["server_group"]["id"].as_str().expect("id").to_string();
    assert!(uuid::Uuid::parse_str(&id).is_ok());
    assert_eq!(
        body,
        json!({"server_group": {"id": id, "name": "web", "policies": ["anti-affinity"], "members": [], "metadata": {}}})
    );
    assert_eq!(group(&ecs, &id).await, body["server_group"]);
    let (_, listed) = ecs.get(&ecs.v1("/cloudservers/os-server-groups")).await;
    assert_eq!(listed, json!({"server_groups": [body["server_group"]]}));
    assert_eq!(ecs.limits().await["totalServerGroupsUsed"], 1);
    let (status, answer) =
        ecs.call(Method::DELETE, &ecs.v1(&format!("/cloudservers/os-server-groups/{id}")), None).await;
    assert_eq!((status, answer), (StatusCode::NO_CONTENT, Value::Null));
    let (status, body) = ecs.get(&ecs.v1(&format!("/cloudservers/os-server-groups/{id}"))).await;
    assert_error(status, &body, 404, "Ecs.1000");
    let (status, body) = ecs.call(Method::DELETE, &ecs.v1(&format!("/cloudservers/os-server-groups/{id}")), None).await;
    assert_error(status, &body, 404, "Ecs.1000");
}

#[tokio::test]
async fn groups_page_by_marker_and_the_quota_binds() {
    let ecs = TestServer::start_with_toml("[quota]\nmax_server_groups = 3\n").await;
    let ids = [create_group(&ecs, "a").await, create_group(&ecs, "b").await, create_group(&ecs, "c").await];
    let (status, body) = ecs
        .post(
            &ecs.v1("/cloudservers/os-server-groups"),
            json!({"server_group": {"name": "d", "policies": ["anti-affinity"]}}),
        )
        .await;
    assert_error(status, &body, 400, "Ecs.0022");
    let (_, first) = ecs.get(&ecs.v1("/cloudservers/os-server-groups?limit=2")).await;
    assert_eq!(first["server_groups"].as_array().map(Vec::len), Some(2));
    assert_eq!(first["page_info"]["next_marker"], ids[1].as_str());
    let (_, second) = ecs.get(&ecs.v1(&format!("/cloudservers/os-server-groups?limit=2&marker={}", ids[1]))).await;
    assert_eq!(second["server_groups"][0]["id"], ids[2].as_str());
    assert!(second.get("page_info").is_none(), "the last page has no next marker: {second}");
    for query in ["limit=0", "limit=1001", "limit=x", &format!("marker={}", uuid::Uuid::new_v4())] {
        let (status, body) = ecs.get(&ecs.v1(&format!("/cloudservers/os-server-groups?{query}"))).await;
        assert_error(status, &body, 400, "Ecs.0005");
    }
}

#[tokio::test]
async fn only_one_anti_affinity_policy_and_a_sized_name_make_a_group() {
    let ecs = TestServer::start().await;
    for bad in [
        json!({"server_group": {"name": "x", "policies": ["affinity"]}}),
        json!({"server_group": {"name": "x", "policies": ["soft-anti-affinity"]}}),
        json!({"server_group": {"name": "x", "policies": []}}),
        json!({"server_group": {"name": "x", "policies": ["anti-affinity", "anti-affinity"]}}),
        json!({"server_group": {"name": "", "policies": ["anti-affinity"]}}),
        json!({"server_group": {"name": "x".repeat(256), "policies": ["anti-affinity"]}}),
        json!({"server_group": {"policies": ["anti-affinity"]}}),
    ] {
        let (status, body) = ecs.post(&ecs.v1("/cloudservers/os-server-groups"), bad).await;
        assert_error(status, &body, 400, "Ecs.0005");
    }
    let (_, listed) = ecs.get(&ecs.v1("/cloudservers/os-server-groups")).await;
    assert_eq!(listed, json!({"server_groups": []}));
}

#[tokio::test]
async fn every_server_is_placed_on_a_host_and_host_ids_hash_it() {
    let ecs = TestServer::start_with_toml(THREE_HOSTS).await;
    let ids = ecs.create_servers("spread", "s6.large.2", 3).await;
    let hosts = hosts_of(&ecs, &ids).await;
    // Spread to the emptiest host first: three servers, three hosts.
    assert_eq!(hosts.iter().collect::<BTreeSet<_>>().len(), 3, "{hosts:?}");
    for (id, host) in ids.iter().zip(&hosts) {
        let server = ecs.server(id).await;
        assert!(host.starts_with("pod0") && host.ends_with(".eu-de-01"), "{host}");
        assert_eq!(server["OS-EXT-SRV-ATTR:hypervisor_hostname"], format!("nova-{host}"));
        assert_eq!(server["hostId"], ecsd::domain::placement::host_id(ecs.project(), Some(host)));
    }
}

#[tokio::test]
async fn an_anti_affinity_group_of_three_spreads_and_a_fourth_create_fails_its_sub_job() {
    let ecs = TestServer::start_with_toml(THREE_HOSTS).await;
    let id = create_group(&ecs, "aa").await;
    let members = ecs.create_from(in_group("aa", &id, 3)).await;
    let hosts = hosts_of(&ecs, &members).await;
    assert_eq!(hosts.iter().collect::<BTreeSet<_>>().len(), 3, "members never share a host: {hosts:?}");
    let shown = group(&ecs, &id).await;
    assert_eq!(shown["members"].as_array().map(Vec::len), Some(3));
    assert_eq!(ecs.server(&members[0]).await["os:scheduler_hints"], json!({"group": [id]}));
    let usage_before = ecs.limits().await;

    let (status, answer) = ecs.post(&ecs.v1("/cloudservers"), in_group("fourth", &id, 1)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let job = ecs.wait_job(answer["job_id"].as_str().expect("job")).await;
    assert_eq!(job["status"], "FAIL");
    assert_eq!(job["error_code"], "Ecs.0319");
    let sub = &job["entities"]["sub_jobs"][0];
    assert_eq!(sub["status"], "FAIL");
    assert_eq!(sub["error_code"], "Ecs.0319");
    assert!(sub["fail_reason"].as_str().expect("reason").contains("No valid host"), "{sub}");
    // Nothing half-created: no server, no usage, no new member.
    let fourth = answer["serverIds"][0].as_str().expect("id");
    let (status, body) = ecs.get(&ecs.v1(&format!("/cloudservers/{fourth}"))).await;
    assert_error(status, &body, 404, "Ecs.0114");
    assert_eq!(ecs.limits().await, usage_before);
    assert_eq!(group(&ecs, &id).await["members"].as_array().map(Vec::len), Some(3));
    // A create of two in one request fails as a whole when only one host is left.
    let other = create_group(&ecs, "pair").await;
    let (_, answer) = ecs.post(&ecs.v1("/cloudservers"), in_group("pair", &other, 4)).await;
    let job = ecs.wait_job(answer["job_id"].as_str().expect("job")).await;
    assert_eq!(job["status"], "FAIL");
    assert_eq!(job["entities"]["sub_jobs_total"], 4);
    assert_eq!(ecs.all_servers().await.len(), 3);
}

#[tokio::test]
async fn a_full_zone_refuses_any_more_servers_with_ecs_0319() {
    let ecs = TestServer::start_with_toml(THREE_HOSTS).await;
    // 24 vCPUs in the zone: twelve s6.large.2 fill it.
    ecs.create_servers("fill", "s6.large.2", 12).await;
    let (_, answer) = ecs.post(&ecs.v1("/cloudservers"), create_body("more", "s6.small.1", 1)).await;
    let job = ecs.wait_job(answer["job_id"].as_str().expect("job")).await;
    assert_eq!((job["status"].clone(), job["error_code"].clone()), (json!("FAIL"), json!("Ecs.0319")));
    // Another zone still has room; the capacity and sell policy reads say so.
    let mut body = create_body("elsewhere", "s6.small.1", 1);
    body["server"]["availability_zone"] = json!("eu-de-02");
    ecs.create_from(body).await;
    let (_, capacity) = ecs.get(&ecs.v1("/cloudservers/flavors/s6.small.1/resources")).await;
    assert_eq!(
        capacity["resources"],
        json!([
            {"region_id": "eu-de", "availability_zone": "eu-de-01", "prefer": false},
            {"region_id": "eu-de", "availability_zone": "eu-de-02", "prefer": true},
            {"region_id": "eu-de", "availability_zone": "eu-de-03", "prefer": true},
        ])
    );
    let (_, sold) = ecs.get(&ecs.v1("/cloudservers/flavor-sell-policies?sell_status=sellout&flavor_id=s6.small")).await;
    let zones: BTreeSet<&str> = sold["sell_policies"]
        .as_array()
        .expect("policies")
        .iter()
        .map(|p| p["availability_zone_id"].as_str().expect("zone"))
        .collect();
    assert_eq!(zones, BTreeSet::from(["eu-de-01"]));
    // Deleting frees the hosts.
    let ids: Vec<String> = ecs.all_servers().await.iter().map(|s| s["id"].as_str().expect("id").to_string()).collect();
    ecs.delete(&ids).await;
    ecs.create_servers("again", "s6.large.2", 12).await;
}

#[tokio::test]
async fn members_join_and_move_off_shared_hosts_and_a_fourth_is_refused_on_three_hosts() {
    let ecs = TestServer::start_with_toml(THREE_HOSTS).await;
    // Four small servers: the first three spread, the fourth shares a host.
    let ids = ecs.create_servers("loose", "s6.small.1", 4).await;
    let id = create_group(&ecs, "later").await;
    for server in &ids[..3] {
        let (status, body) = member_action(&ecs, &id, "add_member", server).await;
        assert_eq!((status, body), (StatusCode::OK, Value::Null));
    }
    let hosts = hosts_of(&ecs, &ids[..3]).await;
    assert_eq!(hosts.iter().collect::<BTreeSet<_>>().len(), 3);
    let (status, body) = member_action(&ecs, &id, "add_member", &ids[3]).await;
    assert_error(status, &body, 400, "Ecs.0319");
    assert!(ecs.server(&ids[3]).await["os:scheduler_hints"].as_object().is_some_and(|o| o.is_empty()));
    // Adding a member again changes nothing; one of another group is refused.
    let (status, _) = member_action(&ecs, &id, "add_member", &ids[0]).await;
    assert_eq!(status, StatusCode::OK);
    let other = create_group(&ecs, "other").await;
    let (status, body) = member_action(&ecs, &other, "add_member", &ids[0]).await;
    assert_error(status, &body, 400, "Ecs.0005");
    // Removing makes room: the fourth joins, moving to the freed host.
    let (status, _) = member_action(&ecs, &id, "remove_member", &ids[0]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = member_action(&ecs, &id, "remove_member", &ids[0]).await;
    assert_error(status, &body, 400, "Ecs.0005");
    let (status, body) = member_action(&ecs, &id, "add_member", &ids[3]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let members = group(&ecs, &id).await["members"].clone();
    let members: Vec<String> =
        members.as_array().expect("members").iter().map(|m| m.as_str().expect("id").into()).collect();
    assert_eq!(members.iter().collect::<BTreeSet<_>>(), ids[1..].iter().collect::<BTreeSet<_>>());
    assert_eq!(hosts_of(&ecs, &members).await.iter().collect::<BTreeSet<_>>().len(), 3);
    // Refusals: unknown group and server, a busy body.
    let (status, body) = member_action(&ecs, &uuid::Uuid::new_v4().to_string(), "add_member", &ids[0]).await;
    assert_error(status, &body, 404, "Ecs.1000");
    let (status, body) = member_action(&ecs, &id, "add_member", &uuid::Uuid::new_v4().to_string()).await;
    assert_error(status, &body, 404, "Ecs.0114");
    let (status, body) = ecs
        .post(
            &ecs.v1(&format!("/cloudservers/os-server-groups/{id}/action")),
            json!({"add_member": {"instance_uuid": ids[0]}, "remove_member": {"instance_uuid": ids[0]}}),
        )
        .await;
    assert_error(status, &body, 400, "Ecs.0005");
    // Deleting the group leaves its members, outside any group.
    ecs.call(Method::DELETE, &ecs.v1(&format!("/cloudservers/os-server-groups/{id}")), None).await;
    assert!(ecs.server(&ids[1]).await["os:scheduler_hints"].as_object().is_some_and(|o| o.is_empty()));
}

#[tokio::test]
async fn batch_membership_reports_each_server_and_the_member_quota_binds() {
    let ecs = TestServer::start_with_toml(&format!("{THREE_HOSTS}\n[quota]\nmax_server_group_members = 2\n")).await;
    let ids = ecs.create_servers("batch", "s6.small.1", 3).await;
    let id = create_group(&ecs, "b").await;
    let ghost = uuid::Uuid::new_v4().to_string();
    let (status, body) = ecs
        .post(
            &ecs.v1(&format!("/cloudservers/os-server-groups/{id}/add_members")),
            json!({"server_ids": [ids[0], ghost, ids[1], ids[2]]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "fail");
    let outcome: Vec<(&str, &str)> = body["servers"]
        .as_array()
        .expect("servers")
        .iter()
        .map(|s| (s["server_id"].as_str().expect("id"), s["status"].as_str().expect("status")))
        .collect();
    assert_eq!(
        outcome,
        [
            (ids[0].as_str(), "success"),
            (ghost.as_str(), "fail"),
            (ids[1].as_str(), "success"),
            (ids[2].as_str(), "fail")
        ]
    );
    assert!(body["servers"][1]["fail_reason"].as_str().expect("reason").starts_with("Ecs.0114"));
    assert!(body["servers"][3]["fail_reason"].as_str().expect("reason").starts_with("Ecs.0022"));
    assert_eq!(body["servers"][0]["fail_reason"], "");
    let (status, body) = ecs
        .post(
            &ecs.v1(&format!("/cloudservers/os-server-groups/{id}/remove_members")),
            json!({"server_ids": [ids[0], ids[1]]}),
        )
        .await;
    assert_eq!((status, body["status"].clone()), (StatusCode::OK, json!("success")));
    assert_eq!(group(&ecs, &id).await["members"], json!([]));
    for bad in [json!({"server_ids": []}), json!({"server_ids": [ids[0], ids[0]]}), json!({})] {
        let (status, body) = ecs.post(&ecs.v1(&format!("/cloudservers/os-server-groups/{id}/add_members")), bad).await;
        assert_error(status, &body, 400, "Ecs.0005");
    }
    // A create that would pass the member quota is refused at once.
    let (status, body) = ecs.post(&ecs.v1("/cloudservers"), in_group("over", &id, 3)).await;
    assert_error(status, &body, 400, "Ecs.0022");
    let mut unknown = create_body("x", "s6.small.1", 1);
    unknown["server"]["os:scheduler_hints"] = json!({"group": ghost});
    let (status, body) = ecs.post(&ecs.v1("/cloudservers"), unknown).await;
    assert_error(status, &body, 400, "Ecs.0005");
}

#[tokio::test]
async fn joining_needs_an_idle_running_or_stopped_unlocked_server() {
    let ecs = TestServer::start_with_timings(slow(true, false, false)).await;
    let id = create_group(&ecs, "states").await;
    let (_, created) = ecs.post(&ecs.v1("/cloudservers"), create_body("building", "s6.small.1", 1)).await;
    let building = created["serverIds"][0].as_str().expect("id");
    // A server being built is busy.
    let (status, body) = member_action(&ecs, &id, "add_member", building).await;
    assert_error(status, &body, 400, "Ecs.0603");
    let (_, loaded) = ecs
        .post(
            "/_ecsd/fixtures",
            json!({"servers": [{"name": "locked", "locked": true}, {"name": "stopped", "status": "SHUTOFF"}]}),
        )
        .await;
    let (status, body) = member_action(&ecs, &id, "add_member", loaded["servers"][0].as_str().expect("id")).await;
    assert_error(status, &body, 400, "Ecs.0605");
    let (status, _) = member_action(&ecs, &id, "add_member", loaded["servers"][1].as_str().expect("id")).await;
    assert_eq!(status, StatusCode::OK);
}

async fn resize(ecs: &TestServer, id: &str, flavor: &str) -> (StatusCode, Value) {
    ecs.post(&ecs.v1(&format!("/cloudservers/{id}/resize")), json!({"resize": {"flavorRef": flavor}})).await
}

#[tokio::test]
async fn a_resize_stays_on_its_host_when_it_fits_moves_when_it_must_and_is_refused_when_it_cannot() {
    let ecs =
        TestServer::start_with_toml("[placement]\nhosts_per_zone = 2\nhost_vcpus = 4\nhost_ram_mib = 16384\n").await;
    // pod01: a (2 vCPUs) and c (1); pod02: b (2).
    let a = ecs.create_servers("a", "s6.large.2", 1).await.remove(0);
    let b = ecs.create_servers("b", "s6.large.2", 1).await.remove(0);
    let c = ecs.create_servers("c", "s6.small.1", 1).await.remove(0);
    let hosts = hosts_of(&ecs, &[a.clone(), b.clone(), c.clone()]).await;
    assert_eq!((hosts[0] == hosts[2], hosts[0] == hosts[1]), (true, false), "{hosts:?}");
    ecs.batch("os-stop", std::slice::from_ref(&c), json!({})).await;
    // 4 vCPUs fit neither on its own host (1 free besides it) nor on pod02 (2 free).
    let (status, body) = resize(&ecs, &c, "s6.xlarge.2").await;
    assert_error(status, &body, 400, "Ecs.0319");
    // 2 vCPUs fit where it is.
    let (status, body) = resize(&ecs, &c, "c6.large.2").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(ecs.wait_job(body["job_id"].as_str().expect("job")).await["status"], "SUCCESS");
    assert_eq!(hosts_of(&ecs, std::slice::from_ref(&c)).await[0], hosts[0]);
    // With pod02 empty, 4 vCPUs move it there; a resize that fails moves it back.
    ecs.delete(std::slice::from_ref(&b)).await;
    let rule = json!({"operation": "resize", "count": 1, "effect": {"kind": "sub_job_fail", "code": "Ecs.0319"}});
    ecs.post("/_ecsd/faults", rule).await;
    let (status, body) = resize(&ecs, &c, "s6.xlarge.2").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(ecs.wait_job(body["job_id"].as_str().expect("job")).await["status"], "FAIL");
    assert_eq!(hosts_of(&ecs, std::slice::from_ref(&c)).await[0], hosts[0], "back on the host it left");
    let (status, body) = resize(&ecs, &c, "s6.xlarge.2").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(ecs.wait_job(body["job_id"].as_str().expect("job")).await["status"], "SUCCESS");
    assert_eq!(hosts_of(&ecs, std::slice::from_ref(&c)).await[0], hosts[1]);
    assert_eq!(ecs.server(&c).await["flavor"]["id"], "s6.xlarge.2");
}

#[tokio::test]
async fn groups_and_membership_survive_a_restart_reset_and_snapshots_and_stay_in_their_project() {
    let mut ecs = TestServer::start_with_two_projects().await;
    let id = create_group(&ecs, "durable").await;
    let members = ecs.create_from(in_group("m", &id, 2)).await;
    ecs.restart(ecsd::engine::sim::Timings::INSTANT).await;
    assert_eq!(group(&ecs, &id).await["members"].as_array().map(Vec::len), Some(2));
    let (status, _) = ecs.post("/_ecsd/snapshots", json!({"name": "grouped"})).await;
    assert!(status.is_success());
    ecs.call(Method::DELETE, &ecs.v1(&format!("/cloudservers/os-server-groups/{id}")), None).await;
    let (status, _) = ecs.post("/_ecsd/snapshots/grouped/restore", json!({})).await;
    assert!(status.is_success());
    assert_eq!(ecs.server(&members[0]).await["os:scheduler_hints"], json!({"group": [id]}));
    assert_eq!(group(&ecs, &id).await["members"].as_array().map(Vec::len), Some(2));

    ecs.credential = other_credential();
    let (status, body) = ecs.get(&ecs.v1(&format!("/cloudservers/os-server-groups/{id}"))).await;
    assert_error(status, &body, 404, "Ecs.1000");
    let (_, listed) = ecs.get(&ecs.v1("/cloudservers/os-server-groups")).await;
    assert_eq!(listed, json!({"server_groups": []}));
    let (status, body) = member_action(&ecs, &id, "remove_member", &members[0]).await;
    assert_error(status, &body, 404, "Ecs.1000");

    ecs.credential = test_credential();
    let (status, _) = ecs.post("/_ecsd/reset", json!({})).await;
    assert!(status.is_success());
    let (_, listed) = ecs.get(&ecs.v1("/cloudservers/os-server-groups")).await;
    assert_eq!(listed, json!({"server_groups": []}));
}

#[tokio::test]
async fn fixtures_carry_groups_whose_members_spread_over_hosts() {
    let ecs = TestServer::start_with_toml(THREE_HOSTS).await;
    let (status, loaded) = ecs
        .post(
            "/_ecsd/fixtures",
            json!({"server_groups": [{"name": "fx"}], "servers": [
                {"name": "m", "count": 3, "server_group": "fx", "availability_zone": "eu-de-01"},
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{loaded}");
    let ids: Vec<String> =
        loaded["servers"].as_array().expect("ids").iter().map(|v| v.as_str().expect("id").into()).collect();
    assert_eq!(hosts_of(&ecs, &ids).await.iter().collect::<BTreeSet<_>>().len(), 3);
    let (_, listed) = ecs.get(&ecs.v1("/cloudservers/os-server-groups")).await;
    assert_eq!(listed["server_groups"][0]["name"], "fx");
    assert_eq!(listed["server_groups"][0]["members"].as_array().map(Vec::len), Some(3));
    // A fourth member does not fit on three hosts; a server naming no declared group is refused.
    for servers in [
        json!([{"name": "m4", "count": 4, "server_group": "fx2", "availability_zone": "eu-de-01"}]),
        json!([{"name": "m5", "server_group": "nope"}]),
    ] {
        let (status, body) =
            ecs.post("/_ecsd/fixtures", json!({"server_groups": [{"name": "fx2"}], "servers": servers})).await;
        assert_eq!(status.as_u16(), 400, "{body}");
    }
    let (_, listed) = ecs.get(&ecs.v1("/cloudservers/os-server-groups")).await;
    assert_eq!(listed["server_groups"].as_array().map(Vec::len), Some(1), "a refused load creates nothing");
}

#[tokio::test]
async fn request_and_precheck_faults_reach_group_operations() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("f", "s6.small.1", 2).await;
    let id = create_group(&ecs, "faulty").await;
    let rule = json!({"operation": "server-group", "server_id": ids[0], "count": 1,
                      "effect": {"kind": "precheck_fail", "code": "Ecs.0100", "message": "injected"}});
    let (status, _) = ecs.post("/_ecsd/faults", rule).await;
    assert!(status.is_success());
    let (status, body) = ecs
        .post(
            &ecs.v1(&format!("/cloudservers/os-server-groups/{id}/add_members")),
            json!({"server_ids": [ids[0], ids[1]]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["servers"][0]["status"], "fail");
    assert_eq!(body["servers"][1]["status"], "success");
    let rule = json!({"operation": "server-group", "count": 1, "effect": {"kind": "http_error", "status": 503, "code": "Common.1503"}});
    ecs.post("/_ecsd/faults", rule).await;
    let (status, body) = member_action(&ecs, &id, "add_member", &ids[0]).await;
    assert_error(status, &body, 503, "Common.1503");
    let (status, _) = member_action(&ecs, &id, "add_member", &ids[0]).await;
    assert_eq!(status, StatusCode::OK);
}
