//! The Image service (Glance v2) calls OpenStack tools make to find an image by name or id:
//! the version document, the image list with Glance's filters and paging, one image. The
//! images are the catalogue's public ones, shown as IMS shows them (IMS's image is Glance's
//! with its `__` properties).

use std::sync::Arc;

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

use super::extract::BaseUrl;
use super::ims::Image;
use super::operation::Row;
use crate::service::Ecs;

pub fn operations() -> Vec<Row> {
    vec![
        Row::new(routes!(glance_show_version)),
        Row::new(routes!(glance_show_version_slash)),
        Row::new(routes!(glance_list_images)),
        Row::new(routes!(glance_show_image)),
    ]
}

/// Glance's error body, as its JSON error formatter writes it.
#[derive(Debug, Serialize, ToSchema)]
pub struct GlanceError {
    /// The status line: `404 Not Found`.
    pub code: String,
    pub title: String,
    pub message: String,
}

/// A Glance refusal.
pub struct GlanceRefusal(StatusCode, String);

impl IntoResponse for GlanceRefusal {
    fn into_response(self) -> Response {
        let title = self.0.canonical_reason().unwrap_or("Error").to_string();
        let body = GlanceError { code: format!("{} {title}", self.0.as_u16()), title, message: self.1 };
        (self.0, Json(body)).into_response()
    }
}

/// `GET /v2`: the image API version.
#[derive(Debug, Serialize, ToSchema)]
pub struct GlanceVersionResponse {
    pub version: GlanceVersion,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GlanceVersion {
    /// `v2.9`.
    pub id: &'static str,
    /// `CURRENT`.
    pub status: &'static str,
    pub links: Vec<GlanceLink>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GlanceLink {
    pub rel: &'static str,
    pub href: String,
}

impl GlanceVersionResponse {
    fn of(base_url: &str) -> Self {
        GlanceVersionResponse {
            version: GlanceVersion {
                id: "v2.9",
                status: "CURRENT",
                links: vec![GlanceLink { rel: "self", href: format!("{base_url}/v2/") }],
            },
        }
    }
}

/// `GET /v2`: where keystoneauth finds the image API of the catalog's `image` endpoint (public).
#[utoipa::path(
    get,
    path = "/v2",
    operation_id = "GlanceShowVersion",
    tag = "Glance",
    security(()),
    responses((status = 200, description = "The image API version.", body = GlanceVersionResponse))
)]
pub async fn glance_show_version(BaseUrl(base): BaseUrl) -> Json<GlanceVersionResponse> {
    Json(GlanceVersionResponse::of(&base))
}

/// `GET /v2/`: the same document.
#[utoipa::path(
    get,
    path = "/v2/",
    operation_id = "GlanceShowVersionSlash",
    tag = "Glance",
    security(()),
    responses((status = 200, description = "The image API version.", body = GlanceVersionResponse))
)]
pub async fn glance_show_version_slash(BaseUrl(base): BaseUrl) -> Json<GlanceVersionResponse> {
    Json(GlanceVersionResponse::of(&base))
}

/// The filters and paging of `GET /v2/images`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GlanceImagesQuery {
    /// Exact name.
    pub name: Option<String>,
    /// Exact status, such as `active`.
    pub status: Option<String>,
    /// `public` (every image is), or `all`.
    pub visibility: Option<String>,
    /// Exact id, or `in:id1,id2`.
    pub id: Option<String>,
    pub limit: Option<String>,
    /// The id of the last image of the previous page.
    pub marker: Option<String>,
}

/// The query of a Glance call, refused in Glance's shape.
pub struct GlanceQuery<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequestParts<S> for GlanceQuery<T> {
    type Rejection = GlanceRefusal;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        serde_urlencoded::from_str(parts.uri.query().unwrap_or_default())
            .map(GlanceQuery)
            .map_err(|e| GlanceRefusal(StatusCode::BAD_REQUEST, format!("Invalid query parameter: {e}.")))
    }
}

/// `GET /v2/images`.
#[derive(Debug, Serialize, ToSchema)]
pub struct GlanceImages {
    pub images: Vec<Image>,
    pub first: String,
    pub schema: &'static str,
    /// The next page, when this one is full.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// `GET /v2/images`: the public images, by Glance's filters, in pages.
#[utoipa::path(
    get,
    path = "/v2/images",
    operation_id = "GlanceListImages",
    tag = "Glance",
    params(GlanceImagesQuery),
    responses(
        (status = 200, description = "The images that match.", body = GlanceImages),
        (status = 400, description = "A malformed limit or an unknown marker.", body = GlanceError),
    )
)]
pub async fn glance_list_images(
    State(ecs): State<Arc<Ecs>>,
    GlanceQuery(query): GlanceQuery<GlanceImagesQuery>,
) -> Result<Json<GlanceImages>, GlanceRefusal> {
    let bad = |message: String| GlanceRefusal(StatusCode::BAD_REQUEST, message);
    let ids: Option<Vec<&str>> =
        query.id.as_deref().map(|id| id.strip_prefix("in:").unwrap_or(id).split(',').map(str::trim).collect());
    let mut images: Vec<_> = ecs
        .catalogue()
        .images
        .iter()
        .filter(|i| query.name.as_deref().is_none_or(|name| name == i.name))
        .filter(|i| query.status.as_deref().is_none_or(|status| status == i.status))
        .filter(|_| query.visibility.as_deref().is_none_or(|v| v == "public" || v == "all"))
        .filter(|i| ids.as_ref().is_none_or(|ids| ids.contains(&i.id.as_str())))
        .collect();
    if let Some(marker) = &query.marker {
        let at = images.iter().position(|i| i.id == *marker).ok_or_else(|| bad(format!("Invalid marker {marker}")))?;
        images.drain(..=at);
    }
    let mut next = None;
    if let Some(limit) = &query.limit {
        let limit: usize = limit.parse().map_err(|_| bad(format!("Invalid limit {limit}")))?;
        if images.len() > limit && limit > 0 {
            next = Some(format!("/v2/images?limit={limit}&marker={}", images[limit - 1].id));
        }
        images.truncate(limit);
    }
    Ok(Json(GlanceImages {
        images: images.into_iter().map(Image::of).collect(),
        first: "/v2/images".into(),
        schema: "/v2/schemas/images",
        next,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct GlanceImagePath {
    pub image_id: String,
}

/// `GET /v2/images/{image_id}`.
#[utoipa::path(
    get,
    path = "/v2/images/{image_id}",
    operation_id = "GlanceShowImage",
    tag = "Glance",
    params(GlanceImagePath),
    responses(
        (status = 200, description = "The image.", body = Image),
        (status = 404, description = "No image with this id.", body = GlanceError),
    )
)]
pub async fn glance_show_image(
    State(ecs): State<Arc<Ecs>>,
    path: Result<axum::extract::Path<GlanceImagePath>, axum::extract::rejection::PathRejection>,
) -> Result<Json<Image>, GlanceRefusal> {
    let axum::extract::Path(GlanceImagePath { image_id }) =
        path.map_err(|e| GlanceRefusal(StatusCode::BAD_REQUEST, format!("Invalid path parameter: {e}.")))?;
    ecs.catalogue()
        .image(&image_id)
        .map(|image| Json(Image::of(image)))
        .ok_or_else(|| GlanceRefusal(StatusCode::NOT_FOUND, format!("No image found with ID {image_id}")))
}
