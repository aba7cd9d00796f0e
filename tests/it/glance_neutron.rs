//! The Glance and Neutron reads OpenStack tools resolve names with: version documents without
//! a credential, images and networks (subnets of the catalogue) by name and id.

use crate::common::*;
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn version_documents_answer_without_a_credential() {
    let ecs = TestServer::start().await;
    for (path, id, href) in
        [("/v2", "v2.9", "/v2/"), ("/v2/", "v2.9", "/v2/"), ("/v2.0", "v2.0", "/v2.0/"), ("/v2.0/", "v2.0", "/v2.0/")]
    {
        let response = reqwest::get(format!("{}{path}", ecs.base)).await.expect("sent");
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["version"]["id"], id, "{body}");
        assert_eq!(body["version"]["links"][0]["href"], format!("{}{href}", ecs.base));
    }
}

#[tokio::test]
async fn images_are_found_by_name_and_id_and_page() {
    let ecs = TestServer::start().await;
    let (status, all) = ecs.get("/v2/images").await;
    assert_eq!(status, StatusCode::OK, "{all}");
    let images = all["images"].as_array().expect("images").clone();
    assert!(images.len() > 1);
    let name = images[0]["name"].as_str().expect("name");
    let (_, by_name) = ecs.get(&format!("/v2/images?name={}", urlencode(name))).await;
    assert_eq!(by_name["images"].as_array().map(Vec::len), Some(1), "{by_name}");
    assert_eq!(by_name["images"][0]["id"], images[0]["id"]);
    let mut paged = Vec::new();
    let mut next = Some("/v2/images?limit=1".to_string());
    while let Some(url) = next {
        let (_, page) = ecs.get(&url).await;
        assert_eq!(page["images"].as_array().map(Vec::len), Some(1), "{page}");
        paged.push(page["images"][0]["id"].clone());
        next = page["next"].as_str().map(String::from);
    }
    assert_eq!(paged, images.iter().map(|i| i["id"].clone()).collect::<Vec<_>>());
    let (status, shown) = ecs.get(&format!("/v2/images/{IMAGE}")).await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    assert_eq!(shown["id"], IMAGE);
    assert_eq!(shown["visibility"], "public");
    let (status, missing) = ecs.get("/v2/images/no-such-image").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(missing["code"], "404 Not Found", "{missing}");
    let (status, bad) = ecs.get("/v2/images?marker=nope").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
}

#[tokio::test]
async fn networks_and_subnets_are_the_catalogues_subnets() {
    let ecs = TestServer::start().await;
    let (status, all) = ecs.get("/v2.0/networks").await;
    assert_eq!(status, StatusCode::OK, "{all}");
    let network = all["networks"].as_array().expect("networks").iter().find(|n| n["id"] == SUBNET).cloned();
    let network = network.expect("the test subnet is a network");
    assert_eq!(network["subnets"][0], SUBNET);
    assert_eq!(network["tenant_id"], ecs.project());
    let name = network["name"].as_str().expect("name");
    let (_, by_name) = ecs.get(&format!("/v2.0/networks?name={}", urlencode(name))).await;
    assert_eq!(by_name["networks"].as_array().map(Vec::len), Some(1), "{by_name}");
    let (status, shown) = ecs.get(&format!("/v2.0/networks/{SUBNET}")).await;
    assert_eq!((status, shown["network"]["id"].clone()), (StatusCode::OK, Value::from(SUBNET)));
    let (_, subnets) = ecs.get(&format!("/v2.0/subnets?network_id={SUBNET}")).await;
    assert_eq!(subnets["subnets"].as_array().map(Vec::len), Some(1), "{subnets}");
    assert_eq!(subnets["subnets"][0]["ip_version"], 4);
    let (status, missing) = ecs.get("/v2.0/networks/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(missing["NeutronError"]["type"], "NetworkNotFound", "{missing}");
    let (status, missing) = ecs.get("/v2.0/subnets/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(missing["NeutronError"]["type"], "SubnetNotFound");
    let unsigned = reqwest::get(format!("{}/v2.0/networks", ecs.base)).await.expect("sent");
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
