//! The Image Management Service calls automation makes to find an image id: the public images
//! of the catalogue, filterable like IMS.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

use super::error::EcsErrorBody as EcsError;
use super::extract::EcsQuery;
use super::operation::Row;
use crate::domain::catalogue::Image as CatalogueImage;
use crate::service::Ecs;

pub fn operations() -> Vec<Row> {
    vec![Row::new(routes!(list_images))]
}

/// `GET /v2/cloudimages`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Images {
    pub images: Vec<Image>,
}

/// A public image as IMS lists it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Image {
    pub id: String,
    pub name: String,
    /// `active`, or another status for an image that cannot be used.
    pub status: String,
    pub visibility: &'static str,
    pub min_disk: u32,
    pub min_ram: u64,
    pub disk_format: &'static str,
    pub container_format: &'static str,
    #[serde(rename = "__os_type")]
    pub os_type: String,
    #[serde(rename = "__os_version")]
    pub os_version: String,
    #[serde(rename = "__platform")]
    pub platform: String,
    /// `gold` (public images).
    #[serde(rename = "__imagetype")]
    pub image_type: &'static str,
    #[serde(rename = "__os_bit")]
    pub os_bit: &'static str,
    #[serde(rename = "__support_kvm")]
    pub support_kvm: &'static str,
    #[serde(rename = "__isregistered")]
    pub is_registered: &'static str,
    #[serde(rename = "__image_source_type")]
    pub image_source_type: &'static str,
    #[serde(rename = "__os_feature_list")]
    pub os_feature_list: &'static str,
    pub virtual_env_type: &'static str,
    /// `x86` or `arm`.
    pub architecture: &'static str,
    pub size: u64,
    pub protected: bool,
    pub owner: &'static str,
    pub tags: Vec<String>,
    pub created_at: &'static str,
    pub updated_at: &'static str,
    #[serde(rename = "self")]
    pub self_link: String,
    pub file: String,
    pub schema: &'static str,
}

impl Image {
    pub fn of(image: &CatalogueImage) -> Self {
        Image {
            id: image.id.clone(),
            name: image.name.clone(),
            status: image.status.clone(),
            visibility: "public",
            min_disk: image.min_disk_gib,
            min_ram: image.min_ram_mib,
            disk_format: "zvhd2",
            container_format: "bare",
            os_type: image.os_type.clone(),
            os_version: image.os_version.clone(),
            platform: image.platform.clone(),
            image_type: "gold",
            os_bit: "64",
            support_kvm: "true",
            is_registered: "true",
            image_source_type: "uds",
            os_feature_list: "",
            virtual_env_type: "FusionCompute",
            architecture: if image.architecture == "arm64" { "arm" } else { "x86" },
            size: 0,
            protected: true,
            owner: "",
            tags: vec![],
            created_at: "2024-01-01T00:00:00Z",
            updated_at: "2024-01-01T00:00:00Z",
            self_link: format!("/v2/images/{}", image.id),
            file: format!("/v2/images/{}/file", image.id),
            schema: "/v2/schemas/image",
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImagesQuery {
    /// Exact image name.
    name: Option<String>,
    /// Exact status, such as `active`.
    status: Option<String>,
    /// `gold` (every image here is public).
    #[serde(rename = "__imagetype")]
    image_type: Option<String>,
    /// `Linux` or `Windows`.
    #[serde(rename = "__os_type")]
    os_type: Option<String>,
    /// Such as `Ubuntu`.
    #[serde(rename = "__platform")]
    platform: Option<String>,
    /// Exact image id.
    id: Option<String>,
}

/// `GET /v2/cloudimages` (IMS): the public images, filterable like IMS.
#[utoipa::path(
    get,
    path = "/v2/cloudimages",
    operation_id = "ListImages",
    tag = "Catalogue",
    params(ImagesQuery),
    responses(
        (status = 200, description = "The public images that match.", body = Images),
        (status = 400, description = "A malformed query (`Ecs.0005`).", body = EcsError),
    )
)]
pub async fn list_images(State(ecs): State<Arc<Ecs>>, EcsQuery(query): EcsQuery<ImagesQuery>) -> Json<Images> {
    let matches = |wanted: &Option<String>, actual: &str| wanted.as_deref().is_none_or(|w| w == actual);
    let images = ecs
        .catalogue()
        .images
        .iter()
        .filter(|i| {
            matches(&query.name, &i.name)
                && matches(&query.status, &i.status)
                && matches(&query.image_type, "gold")
                && matches(&query.os_type, &i.os_type)
                && matches(&query.platform, &i.platform)
                && matches(&query.id, &i.id)
        })
        .map(Image::of)
        .collect();
    Json(Images { images })
}
