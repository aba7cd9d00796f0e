//! Launch templates (v3).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use super::wire::PageInfo;
use super::wire::templates::{
    CreateLaunchTemplateRequest, CreateLaunchTemplateResponse, LaunchTemplateView, ListLaunchTemplateVersionsQuery,
    ListLaunchTemplateVersionsResponse, ListTemplatesQuery, ListTemplatesResponse, TemplateVersionView, csv,
};
use crate::api::blocking;
use crate::api::error::{ApiResult, EcsErrorBody as EcsError};
use crate::api::extract::{EcsJson, EcsPath, EcsQuery, Project, ProjectPath};
use crate::domain::Error;
use crate::service::{Ecs, NewTemplate, TemplateFilter, VersionFilter};

/// Most templates or versions one page may hold, and how many when not asked.
const MAX_LIMIT: u64 = 1000;
const DEFAULT_LIMIT: u64 = 100;

fn limit(asked: Option<u64>) -> ApiResult<usize> {
    let limit = asked.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Error::invalid(format!("limit must range from 1 to {MAX_LIMIT}.")).into());
    }
    Ok(limit as usize)
}

/// The template of a path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TemplatePath {
    pub launch_template_id: String,
}

/// `POST /v3/{pid}/launch-templates`.
#[utoipa::path(
    post,
    path = "/v3/{project_id}/launch-templates",
    operation_id = "CreateLaunchTemplate",
    tag = "ECS launch templates",
    params(ProjectPath),
    request_body = CreateLaunchTemplateRequest,
    responses(
        (status = 200, description = "The template and its version 1 (the default).",
         body = CreateLaunchTemplateResponse),
        (status = 202, description = "`dry_run`: the request is valid; nothing was created. No body."),
        (status = 400, description = "Malformed body, an invalid name or description, or a name the project \
already has (`Ecs.0005`).", body = EcsError),
    )
)]
pub async fn create_launch_template(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsJson(request): EcsJson<CreateLaunchTemplateRequest>,
) -> ApiResult<Response> {
    let option = request.launch_template;
    let new = NewTemplate {
        name: option.name,
        description: option.description,
        version_description: option.version_description,
        data: option.template_data,
    };
    let dry_run = request.dry_run;
    Ok(match blocking(&ecs, move |ecs| ecs.create_launch_template(&project_id, new, dry_run)).await? {
        Some(launch_template_id) => Json(CreateLaunchTemplateResponse { launch_template_id }).into_response(),
        None => StatusCode::ACCEPTED.into_response(),
    })
}

/// `GET /v3/{pid}/launch-templates`.
#[utoipa::path(
    get,
    path = "/v3/{project_id}/launch-templates",
    operation_id = "ListTemplates",
    tag = "ECS launch templates",
    params(ProjectPath, ListTemplatesQuery),
    responses(
        (status = 200, description = "The project's templates, oldest first.", body = ListTemplatesResponse),
        (status = 400, description = "`limit` outside 1 to 1000 or an unknown `marker` (`Ecs.0005`).",
         body = EcsError),
    )
)]
pub async fn list_templates(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsQuery(query): EcsQuery<ListTemplatesQuery>,
) -> ApiResult<Json<ListTemplatesResponse>> {
    let filter = TemplateFilter {
        ids: csv(query.launch_template_id),
        names: csv(query.name),
        marker: query.marker,
        limit: limit(query.limit)?,
    };
    let (templates, next_marker) = blocking(&ecs, move |ecs| ecs.list_templates(&project_id, &filter)).await?;
    Ok(Json(ListTemplatesResponse {
        launch_templates: templates.iter().map(LaunchTemplateView::of).collect(),
        page_info: PageInfo { next_marker },
    }))
}

/// `GET /v3/{pid}/launch-template-versions`.
#[utoipa::path(
    get,
    path = "/v3/{project_id}/launch-template-versions",
    operation_id = "ListLaunchTemplateVersions",
    tag = "ECS launch templates",
    params(ProjectPath, ListLaunchTemplateVersionsQuery),
    responses(
        (status = 200, description = "The matching versions, by template and version number.",
         body = ListLaunchTemplateVersionsResponse),
        (status = 400, description = "`limit` outside 1 to 1000, a `version` that is not a number, or an unknown \
`marker` (`Ecs.0005`).", body = EcsError),
    )
)]
pub async fn list_launch_template_versions(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsQuery(query): EcsQuery<ListLaunchTemplateVersionsQuery>,
) -> ApiResult<Json<ListLaunchTemplateVersionsResponse>> {
    let versions = csv(query.version)
        .map(|numbers| {
            numbers
                .iter()
                .map(|n| n.parse::<u32>().map_err(|_| Error::invalid(format!("version {n:?} is not a number."))))
                .collect::<Result<Vec<u32>, Error>>()
        })
        .transpose()?;
    let filter = VersionFilter {
        template_id: query.launch_template_id,
        image_id: query.image_id,
        flavor_id: query.flavor_id,
        versions,
        marker: query.marker,
        limit: limit(query.limit)?,
    };
    let (versions, next_marker) =
        blocking(&ecs, move |ecs| ecs.list_launch_template_versions(&project_id, &filter)).await?;
    Ok(Json(ListLaunchTemplateVersionsResponse {
        launch_template_versions: versions.iter().map(TemplateVersionView::of).collect(),
        page_info: PageInfo { next_marker },
    }))
}

/// `DELETE /v3/{pid}/launch-templates/{launch_template_id}`.
#[utoipa::path(
    delete,
    path = "/v3/{project_id}/launch-templates/{launch_template_id}",
    operation_id = "DeleteLaunchTemplates",
    tag = "ECS launch templates",
    params(ProjectPath, TemplatePath),
    responses(
        (status = 204, description = "The template and all its versions are gone."),
        (status = 404, description = "No such template in the project (`Ecs.1000`).", body = EcsError),
    )
)]
pub async fn delete_launch_templates(
    State(ecs): State<Arc<Ecs>>,
    Project(project_id): Project,
    EcsPath(TemplatePath { launch_template_id }): EcsPath<TemplatePath>,
) -> ApiResult<StatusCode> {
    blocking(&ecs, move |ecs| ecs.delete_launch_templates(&project_id, &launch_template_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
