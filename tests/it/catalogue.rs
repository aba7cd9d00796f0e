//! The read-only catalogue: `GET /` (versions), flavors (SDK `ListFlavors`), resize flavors
//! (`ListResizeFlavors`), limits (`ShowServerLimits`), availability zones (`ListServerAzInfo`,
//! `NovaListAvailabilityZones`), and the IMS/VPC lists (`ListImages`, `ListVpcs`, `ListSubnets`),
//! plus what every response shares: `X-Request-Id` and the unknown-path error.
//! Contract T1.12–T1.14, T3.1, T3.10, 1.2, 9.

use std::collections::HashSet;

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const UNKNOWN_PROJECT: &str = "99999999999999999999999999999999";

async fn get_as_unknown_project(ecs: &TestServer, rest: &str) -> Answer {
    ecs.call_with_headers(Method::GET, &format!("/v1/{UNKNOWN_PROJECT}{rest}"), Vec::new(), &[], Some(UNKNOWN_PROJECT))
        .await
}

fn flavor_ids(body: &Value) -> Vec<String> {
    body["flavors"].as_array().expect("flavors").iter().map(|f| f["id"].as_str().expect("id").to_string()).collect()
}

fn request_id(answer: &Answer) -> String {
    let value = answer.headers.get("x-request-id").unwrap_or_else(|| panic!("X-Request-Id on {}", answer.status));
    let text = value.to_str().expect("ascii").to_string();
    assert!(!text.is_empty());
    text
}

#[tokio::test]
async fn the_versions_document_needs_no_signature() {
    let ecs = TestServer::start().await;
    let response = reqwest::get(format!("{}/", ecs.base)).await.expect("GET /");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().contains_key("x-request-id"));
    let body: Value = response.json().await.expect("json");
    let base = &ecs.base;
    assert_eq!(
        body,
        json!({"versions": [
            {"id": "v2.0", "status": "SUPPORTED", "version": "", "min_version": "", "updated": "2011-01-21T11:33:21Z",
             "links": [{"rel": "self", "href": format!("{base}/v2/")}]},
            {"id": "v2.1", "status": "CURRENT", "version": "2.60", "min_version": "2.1", "updated": "2013-07-23T11:33:21Z",
             "links": [{"rel": "self", "href": format!("{base}/v2.1/")}]},
        ]})
    );
}

#[tokio::test]
async fn flavors_list_every_seeded_flavor_with_the_contract_types() {
    let ecs = TestServer::start().await;
    let (status, body) = ecs.get(&ecs.v1("/cloudservers/flavors")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let ids = flavor_ids(&body);
    assert!(ids.len() >= 8, "{ids:?}");
    for id in ["s6.small.1", "s6.medium.2", "s6.large.2", "s6.xlarge.2", "c6.large.2", "c6.xlarge.4", "m6.large.8"] {
        assert!(ids.iter().any(|i| i == id), "{id} in {ids:?}");
    }
    for flavor in body["flavors"].as_array().expect("flavors") {
        assert!(flavor["vcpus"].as_str().is_some_and(|v| v.parse::<u32>().is_ok()), "vcpus string: {flavor}");
        assert!(flavor["ram"].is_u64(), "ram integer: {flavor}");
        assert_eq!(flavor["id"], flavor["name"]);
        let specs = flavor["os_extra_specs"].as_object().expect("os_extra_specs");
        assert!(specs.values().all(Value::is_string), "all extra specs are strings: {flavor}");
        for key in ["ecs:performancetype", "ecs:generation", "ecs:virtualization_env_types", "cond:operation:status"] {
            assert!(specs.contains_key(key), "{key} in {flavor}");
        }
        assert!(flavor.get("extra_specs").is_none(), "the list names it os_extra_specs: {flavor}");
    }

    let large = body["flavors"].as_array().expect("flavors").iter().find(|f| f["id"] == "s6.large.2").expect("large");
    let mut large = large.clone();
    let specs = large.as_object_mut().expect("object").remove("os_extra_specs").expect("specs");
    let links = large.as_object_mut().expect("object").remove("links").expect("links");
    large.as_object_mut().expect("object").remove("attachableQuantity");
    assert_eq!(
        large,
        json!({
            "id": "s6.large.2",
            "name": "s6.large.2",
            "vcpus": "2",
            "ram": 4096,
            "disk": "0",
            "swap": "",
            "OS-FLV-EXT-DATA:ephemeral": 0,
            "OS-FLV-DISABLED:disabled": false,
            "rxtx_factor": 1.0,
            "rxtx_quota": null,
            "rxtx_cap": null,
            "os-flavor-access:is_public": true,
        })
    );
    assert_eq!(specs["ecs:performancetype"], "normal");
    assert_eq!(specs["ecs:generation"], "s6");
    assert_eq!(specs["ecs:virtualization_env_types"], "CloudCompute");
    let rels: Vec<&Value> = links.as_array().expect("links").iter().map(|l| &l["rel"]).collect();
    assert_eq!(rels, [&json!("self"), &json!("bookmark")]);
}

#[tokio::test]
async fn flavors_of_an_unknown_availability_zone_are_none() {
    let ecs = TestServer::start().await;
    let (status, body) = ecs.get(&ecs.v1("/cloudservers/flavors?availability_zone=mars-01")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"flavors": []}));
    let (_, all) = ecs.get(&ecs.v1("/cloudservers/flavors")).await;
    let (_, zone) = ecs.get(&ecs.v1("/cloudservers/flavors?availability_zone=eu-de-01")).await;
    assert_eq!(flavor_ids(&zone), flavor_ids(&all));
}

#[tokio::test]
async fn flavors_of_an_unknown_project_are_ecs_0003() {
    let ecs = TestServer::start().await;
    let answer = get_as_unknown_project(&ecs, "/cloudservers/flavors").await;
    assert_error(answer.status, &answer.body, 403, "Ecs.0003");
}

#[tokio::test]
async fn resize_flavors_by_source_flavor_leave_out_the_source_and_other_architectures() {
    let ecs = TestServer::start().await;
    let (status, body) = ecs.get(&ecs.v1("/cloudservers/resize_flavors?source_flavor_id=s6.small.1")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let ids = flavor_ids(&body);
    assert!(!ids.contains(&"s6.small.1".to_string()), "{ids:?}");
    assert!(!ids.contains(&"kc1.large.2".to_string()), "the arm64 flavor: {ids:?}");
    for id in ["s6.medium.2", "s6.large.2", "c6.large.2", "m6.xlarge.8"] {
        assert!(ids.contains(&id.to_string()), "{id} in {ids:?}");
    }
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "sorted by flavor id by default");
    for flavor in body["flavors"].as_array().expect("flavors") {
        assert!(flavor["vcpus"].is_string(), "{flavor}");
        assert!(flavor["ram"].is_u64(), "{flavor}");
        let specs = flavor["extra_specs"].as_object().unwrap_or_else(|| panic!("extra_specs object: {flavor}"));
        assert!(specs.values().all(Value::is_string));
        assert!(flavor.get("os_extra_specs").is_none(), "{flavor}");
    }
    let (_, by_name) = ecs.get(&ecs.v1("/cloudservers/resize_flavors?source_flavor_name=s6.small.1")).await;
    assert_eq!(by_name, body);
}

#[tokio::test]
async fn resize_flavors_by_instance_follow_the_servers_flavor() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("rs", "c6.large.2", 1).await;
    let (status, by_server) = ecs.get(&ecs.v1(&format!("/cloudservers/resize_flavors?instance_uuid={}", ids[0]))).await;
    assert_eq!(status, StatusCode::OK, "{by_server}");
    let (_, by_flavor) = ecs.get(&ecs.v1("/cloudservers/resize_flavors?source_flavor_id=c6.large.2")).await;
    assert_eq!(by_server, by_flavor);
    assert!(!flavor_ids(&by_server).contains(&"c6.large.2".to_string()));
    // instance_uuid takes precedence over source_flavor_id.
    let (_, both) = ecs
        .get(&ecs.v1(&format!("/cloudservers/resize_flavors?instance_uuid={}&source_flavor_id=s6.small.1", ids[0])))
        .await;
    assert_eq!(both, by_flavor);
}

#[tokio::test]
async fn resize_flavors_sort_and_page() {
    let ecs = TestServer::start().await;
    let path = |q: &str| ecs.v1(&format!("/cloudservers/resize_flavors?source_flavor_id=s6.small.1&{q}"));
    let (_, all) = ecs.get(&path("")).await;
    let all = flavor_ids(&all);
    let (_, desc) = ecs.get(&path("sort_dir=desc")).await;
    let mut reversed = all.clone();
    reversed.reverse();
    assert_eq!(flavor_ids(&desc), reversed);
    let (_, first) = ecs.get(&path("limit=2")).await;
    assert_eq!(flavor_ids(&first), all[..2]);
    let (_, next) = ecs.get(&path(&format!("limit=2&marker={}", all[1]))).await;
    assert_eq!(flavor_ids(&next), all[2..4]);
    let (_, by_vcpus) = ecs.get(&path("sort_key=vcpus")).await;
    let vcpus: Vec<u32> = by_vcpus["flavors"]
        .as_array()
        .expect("flavors")
        .iter()
        .map(|f| f["vcpus"].as_str().expect("vcpus").parse().expect("number"))
        .collect();
    assert!(vcpus.windows(2).all(|w| w[0] <= w[1]), "{vcpus:?}");
}

#[tokio::test]
async fn resize_flavors_without_a_source_are_ecs_0005() {
    let ecs = TestServer::start().await;
    let (status, body) = ecs.get(&ecs.v1("/cloudservers/resize_flavors")).await;
    assert_error(status, &body, 400, "Ecs.0005");
    let (status, body) = ecs.get(&ecs.v1("/cloudservers/resize_flavors?sort_key=vcpus")).await;
    assert_error(status, &body, 400, "Ecs.0005");
}

#[tokio::test]
async fn resize_flavors_of_an_unknown_flavor_or_server_are_refused() {
    let ecs = TestServer::start().await;
    let (status, body) = ecs.get(&ecs.v1("/cloudservers/resize_flavors?source_flavor_id=z9.nothing.1")).await;
    assert_error(status, &body, 400, "Ecs.0029");
    let unknown = random_ids(1).remove(0);
    let (status, body) = ecs.get(&ecs.v1(&format!("/cloudservers/resize_flavors?instance_uuid={unknown}"))).await;
    assert_error(status, &body, 404, "Ecs.0114");
}

#[tokio::test]
async fn limits_answer_every_key_of_t1_14_and_the_usage() {
    let ecs = TestServer::start().await;
    let (status, body) = ecs.get(&ecs.v1("/cloudservers/limits")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"absolute": {
            "maxTotalInstances": 2048,
            "maxTotalCores": 20480,
            "maxTotalRAMSize": 25165824,
            "maxTotalKeypairs": -1,
            "maxServerMeta": 128,
            "maxPersonality": 5,
            "maxPersonalitySize": 10240,
            "maxServerGroups": 10,
            "maxServerGroupMembers": 16,
            "maxSecurityGroups": 10,
            "maxSecurityGroupRules": 20,
            "maxTotalFloatingIps": 10,
            "maxImageMeta": 128,
            "totalInstancesUsed": 0,
            "totalCoresUsed": 0,
            "totalRAMUsed": 0,
            "totalSecurityGroupsUsed": body["absolute"]["totalSecurityGroupsUsed"],
            "totalFloatingIpsUsed": 0,
            "totalServerGroupsUsed": 0,
        }})
    );
    assert!(body["absolute"]["totalSecurityGroupsUsed"].is_i64());

    ecs.create_servers("used", "m6.large.8", 2).await;
    let limits = ecs.limits().await;
    assert_eq!(limits["totalInstancesUsed"], 2);
    assert_eq!(limits["totalCoresUsed"], 4);
    assert_eq!(limits["totalRAMUsed"], 2 * 16 * 1024);
}

#[tokio::test]
async fn limits_come_from_the_configured_quota() {
    let ecs = TestServer::start_with_toml("[quota]\nmax_instances = 7\nmax_cores = -1\n").await;
    let limits = ecs.limits().await;
    assert_eq!(limits["maxTotalInstances"], 7);
    assert_eq!(limits["maxTotalCores"], -1);
}

#[tokio::test]
async fn limits_of_an_unknown_project_are_ecs_0003() {
    let ecs = TestServer::start().await;
    let answer = get_as_unknown_project(&ecs, "/cloudservers/limits").await;
    assert_error(answer.status, &answer.body, 403, "Ecs.0003");
}

#[tokio::test]
async fn availability_zones_in_the_ecs_and_nova_shapes() {
    let ecs = TestServer::start().await;
    let (status, body) = ecs.get(&ecs.v1("/availability-zones")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let zones: Vec<&str> = body["availability_zones"]
        .as_array()
        .expect("availability_zones")
        .iter()
        .map(|z| z["availability_zone_id"].as_str().expect("id"))
        .collect();
    assert_eq!(zones, ["eu-de-01", "eu-de-02", "eu-de-03"]);

    let (status, body) = ecs.get(&format!("/v2.1/{}/os-availability-zone", ecs.project())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"availabilityZoneInfo": [
            {"zoneName": "eu-de-01", "zoneState": {"available": true}, "hosts": null},
            {"zoneName": "eu-de-02", "zoneState": {"available": true}, "hosts": null},
            {"zoneName": "eu-de-03", "zoneState": {"available": true}, "hosts": null},
        ]})
    );
}

#[tokio::test]
async fn availability_zones_of_an_unknown_project_are_ecs_0003() {
    let ecs = TestServer::start().await;
    let answer = get_as_unknown_project(&ecs, "/availability-zones").await;
    assert_error(answer.status, &answer.body, 403, "Ecs.0003");
    let answer = ecs
        .call_with_headers(
            Method::GET,
            &format!("/v2.1/{UNKNOWN_PROJECT}/os-availability-zone"),
            Vec::new(),
            &[],
            Some(UNKNOWN_PROJECT),
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
}

#[tokio::test]
async fn images_list_the_public_images_with_ims_fields_and_filters() {
    let ecs = TestServer::start().await;
    let (status, body) = ecs.get("/v2/cloudimages").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let images = body["images"].as_array().expect("images");
    assert!(images.len() >= 3, "{body}");
    for image in images {
        assert!(image["id"].is_string() && image["name"].is_string(), "{image}");
        assert_eq!(image["visibility"], "public");
        assert_eq!(image["__imagetype"], "gold");
        assert!(image["min_disk"].is_u64(), "{image}");
        assert!(image["min_ram"].is_u64(), "{image}");
        assert!(image["__os_type"] == "Linux" || image["__os_type"] == "Windows", "{image}");
        assert_eq!(image["__os_bit"], "64", "strings even for numbers: {image}");
        assert_eq!(image["__support_kvm"], "true");
        assert!(image["protected"].is_boolean());
    }
    let ubuntu = images.iter().find(|i| i["id"] == IMAGE).expect("the default image");
    assert_eq!(ubuntu["status"], "active");
    assert_eq!(ubuntu["name"], "Standard_Ubuntu_22.04_latest");

    let ids = |body: &Value| -> Vec<String> {
        body["images"].as_array().expect("images").iter().map(|i| i["id"].as_str().expect("id").to_string()).collect()
    };
    let (_, active) = ecs.get("/v2/cloudimages?status=active").await;
    assert!(ids(&active).len() < images.len(), "the deactivated image is left out");
    assert!(active["images"].as_array().expect("images").iter().all(|i| i["status"] == "active"));
    let (_, windows) = ecs.get("/v2/cloudimages?__os_type=Windows").await;
    assert_eq!(windows["images"].as_array().expect("images").len(), 1);
    let (_, by_name) = ecs.get("/v2/cloudimages?name=Standard_Ubuntu_22.04_latest").await;
    assert_eq!(ids(&by_name), [IMAGE]);
    let (_, gold) = ecs.get("/v2/cloudimages?__imagetype=gold").await;
    assert_eq!(ids(&gold).len(), images.len());
    let (status, private) = ecs.get("/v2/cloudimages?__imagetype=private").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(private, json!({"images": []}));
}

#[tokio::test]
async fn images_refuse_an_unsigned_request_with_the_gateway_error() {
    let ecs = TestServer::start().await;
    let response = reqwest::get(format!("{}/v2/cloudimages", ecs.base)).await.expect("GET");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers().contains_key("x-request-id"));
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error_code"], "APIG.0301", "{body}");
}

#[tokio::test]
async fn vpcs_and_subnets_list_the_seeded_networks() {
    let ecs = TestServer::start().await;
    let (status, body) = ecs.get(&ecs.v1("/vpcs")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let vpcs = body["vpcs"].as_array().expect("vpcs");
    let default = vpcs.iter().find(|v| v["id"] == VPC).expect("the default VPC");
    assert_eq!(default["name"], "vpc-default");
    assert_eq!(default["cidr"], "192.168.0.0/16");
    assert_eq!(default["status"], "OK");
    assert_eq!(default["tenant_id"], ecs.project());

    let (status, body) = ecs.get(&ecs.v1("/subnets")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let all: HashSet<&str> =
        body["subnets"].as_array().expect("subnets").iter().map(|s| s["id"].as_str().expect("id")).collect();
    assert!(all.len() >= 2 && all.contains(SUBNET), "{body}");

    let (status, body) = ecs.get(&ecs.v1(&format!("/subnets?vpc_id={VPC}"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let subnets = body["subnets"].as_array().expect("subnets");
    assert_eq!(subnets.len(), 1, "{body}");
    let subnet = &subnets[0];
    assert_eq!(subnet["id"], SUBNET);
    assert_eq!(subnet["vpc_id"], VPC);
    assert_eq!(subnet["cidr"], "192.168.0.0/16");
    assert_eq!(subnet["gateway_ip"], "192.168.0.1");
    assert_eq!(subnet["status"], "ACTIVE");
    assert!(subnet["dhcp_enable"].is_boolean());
    assert!(subnet["available_ip_address_count"].is_u64());

    let (_, none) = ecs.get(&ecs.v1("/subnets?vpc_id=00000000-0000-4000-8000-000000000000")).await;
    assert_eq!(none, json!({"subnets": []}));
    let (_, one) = ecs.get(&ecs.v1(&format!("/vpcs?id={VPC}"))).await;
    assert_eq!(one["vpcs"].as_array().expect("vpcs").len(), 1);
}

#[tokio::test]
async fn vpcs_and_subnets_of_an_unknown_project_are_vpc_2701() {
    let ecs = TestServer::start().await;
    for rest in ["/vpcs", "/subnets", "/ports", "/security-groups"] {
        let answer = get_as_unknown_project(&ecs, rest).await;
        assert_eq!(answer.status.as_u16(), 403, "{}", answer.body);
        assert_eq!(answer.body["code"], "VPC.2701", "the VPC shape: {}", answer.body);
    }
}

#[tokio::test]
async fn an_unknown_path_is_ecs_1000_with_404() {
    let ecs = TestServer::start().await;
    for path in [
        ecs.v1("/cloudservers/0f0e0d0c-0b0a-4909-8807-060504030201/no-such-thing"),
        ecs.v1("/nothing"),
        "/v9/whatever".to_string(),
    ] {
        let (status, body) = ecs.get(&path).await;
        assert_error(status, &body, 404, "Ecs.1000");
    }
}

#[tokio::test]
async fn every_response_carries_its_own_x_request_id() {
    let ecs = TestServer::start().await;
    let ok = ecs.call_with_headers(Method::GET, &ecs.v1("/cloudservers/flavors"), Vec::new(), &[], None).await;
    assert_eq!(ok.status, StatusCode::OK);
    let not_found = ecs.call_with_headers(Method::GET, &ecs.v1("/nothing"), Vec::new(), &[], None).await;
    assert_eq!(not_found.status, StatusCode::NOT_FOUND);
    let invalid = ecs.call_with_headers(Method::POST, &ecs.v1("/cloudservers/action"), b"{}".to_vec(), &[], None).await;
    assert_eq!(invalid.status, StatusCode::BAD_REQUEST);
    let missing = ecs
        .call_with_headers(Method::GET, &ecs.v1(&format!("/cloudservers/{}", random_ids(1)[0])), Vec::new(), &[], None)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let ids: HashSet<String> = [&ok, &not_found, &invalid, &missing].into_iter().map(request_id).collect();
    assert_eq!(ids.len(), 4, "each response has its own id: {ids:?}");
}

#[tokio::test]

async fn nova_responses_also_carry_an_openstack_request_id() {
    let ecs = TestServer::start().await;
    let answer = ecs
        .call_with_headers(Method::GET, &format!("/v2.1/{}/os-availability-zone", ecs.project()), Vec::new(), &[], None)
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    request_id(&answer);
    for header in ["x-openstack-request-id", "x-compute-request-id"] {
        let value = answer.headers.get(header).unwrap_or_else(|| panic!("{header} present"));
        let text = value.to_str().expect("ascii");
        let id = text.strip_prefix("req-").unwrap_or_else(|| panic!("{header} is req-<uuid>: {text}"));
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{header}: {text}");
    }
}

#[tokio::test]
async fn flavors_filtered_by_flavor_id() {
    let ecs = TestServer::start().await;
    let (status, body) = ecs.get(&ecs.v1("/cloudservers/flavors?flavor_id=c6.xlarge.4")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(flavor_ids(&body), ["c6.xlarge.4"]);
    assert_eq!(body["flavors"][0]["vcpus"], "4");
    assert_eq!(body["flavors"][0]["ram"], 16384);
}
