//! Nova's servers: create, list, show, update, delete, the actions, instance actions and
//! metadata, over the same service as ECS's.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::wire::{
    ConsoleOutput, CreateServerRequest, CreatedServer, CreatedServerResponse, InstanceAction, InstanceActionResponse,
    InstanceActions, Link, MetaItem, MetadataBody, Networks, NovaServer, ServerAction, ServerResponse, ServerSummary,
    ServersDetailResponse, ServersResponse, UpdateServerRequest, security_group_names, server_links,
};
use super::{Microversion, NovaError, NovaJson, NovaPath, NovaProject, NovaQuery, NovaResult, blocking};
use crate::api::ecs::wire::servers::GroupNames;
use crate::api::extract::{BaseUrl, ProjectPath, ServerPath};
use crate::api::operation::Current;
use crate::domain::ErrorCode;
use crate::domain::catalogue::Catalogue;
use crate::domain::create::{CreateServers, NicRequest, VolumeRequest};
use crate::domain::job::JobStatus;
use crate::domain::query::{ServerFilter, fuzzy_contains};
use crate::domain::server::{Server, Tag, Timestamp};
use crate::domain::status::Status;
use crate::domain::volumes::DEFAULT_VOLUME_TYPE;
use crate::service::{BatchAction, CreateAccepted, Ecs, ResizeRequest, ServerUpdate};

/// The id at the end of a reference that may be a URL (`flavorRef`, `imageRef`).
fn last_segment(reference: &str) -> String {
    reference.trim_end_matches('/').rsplit('/').next().unwrap_or_default().to_string()
}

impl CreateServerRequest {
    /// The ECS create this Nova create asks for.
    fn into_domain(self, catalogue: &Catalogue) -> NovaResult<CreateServers> {
        let server = self.server;
        let boot = server.block_device_mapping_v2.iter().find(|d| d.is_boot());
        let image_id = match (server.image_ref.as_deref().filter(|r| !r.is_empty()), boot) {
            (Some(image), _) => last_segment(image),
            (None, Some(device)) if device.source_type.as_deref() == Some("image") => {
                device.uuid.clone().ok_or_else(|| NovaError::bad_request("The boot device needs the image's uuid."))?
            }
            _ => return Err(NovaError::bad_request("Missing imageRef attribute")),
        };
        let mut data_volumes = Vec::new();
        for device in &server.block_device_mapping_v2 {
            match device.source_type.as_deref() {
                Some("image") if device.is_boot() => {}
                Some("blank") if device.destination_type.as_deref() != Some("local") => {
                    let size = device
                        .volume_size
                        .ok_or_else(|| NovaError::bad_request("A blank block device needs a volume_size."))?;
                    data_volumes.push(VolumeRequest {
                        volume_type: device.volume_type.clone().unwrap_or_else(|| DEFAULT_VOLUME_TYPE.into()),
                        size_gib: Some(size),
                        multiattach: false,
                    });
                }
                other => {
                    return Err(NovaError::bad_request(format!(
                        "Block devices of source_type {} are not supported: boot from an image, add blank volumes.",
                        other.unwrap_or("null")
                    )));
                }
            }
        }
        let root_volume = VolumeRequest {
            volume_type: boot.and_then(|d| d.volume_type.clone()).unwrap_or_else(|| DEFAULT_VOLUME_TYPE.into()),
            size_gib: boot.and_then(|d| d.volume_size),
            multiattach: false,
        };
        let nics = match server.networks {
            Some(Networks::Listed(networks)) if !networks.is_empty() => networks
                .into_iter()
                .map(|network| {
                    if let Some(port_id) = network.port.filter(|id| !id.is_empty()) {
                        // An existing port, attached as it is (ECS checks it).
                        return Ok(NicRequest { subnet_id: String::new(), ip: None, port_id: Some(port_id) });
                    }
                    let uuid = network.uuid.ok_or_else(|| NovaError::bad_request("A network needs a uuid."))?;
                    if catalogue.subnet(&uuid).is_none() {
                        return Err(NovaError::bad_request(format!("Network {uuid} could not be found.")));
                    }
                    let ip = match network.fixed_ip.as_deref() {
                        None | Some("") => None,
                        Some(text) => Some(
                            text.parse()
                                .map_err(|_| NovaError::bad_request(format!("Invalid fixed IP address ({text})")))?,
                        ),
                    };
                    Ok(NicRequest { subnet_id: uuid, ip, port_id: None })
                })
                .collect::<NovaResult<Vec<_>>>()?,
            Some(Networks::Word(word)) if word == "none" => {
                return Err(NovaError::bad_request("A server needs a network: give one by uuid."));
            }
            Some(Networks::Word(word)) if word != "auto" => {
                return Err(NovaError::bad_request(format!("Invalid networks value {word:?}.")));
            }
            _ => match catalogue.subnets.as_slice() {
                [only] => vec![NicRequest { subnet_id: only.id.clone(), ip: None, port_id: None }],
                _ => {
                    return Err(NovaError::conflict(
                        "Multiple possible networks found, use a Network ID to be more specific.",
                    ));
                }
            },
        };
        let vpc_id = catalogue.subnet(&nics[0].subnet_id).map(|s| s.vpc_id.clone()).unwrap_or_default();
        let min = server.min_count.unwrap_or(1);
        let max = server.max_count.unwrap_or(min);
        if min == 0 || max < min {
            return Err(NovaError::bad_request("min_count must be at least 1 and at most max_count."));
        }
        // Names (or ids) until the create resolves them against the project's groups.
        let security_group_ids = server.security_groups.into_iter().map(|group| group.name).collect();
        let server_group_id = self.scheduler_hints.and_then(|hints| hints.group).filter(|g| !g.is_empty());
        Ok(CreateServers {
            name: server.name,
            count: max,
            image_id,
            flavor_id: last_segment(&server.flavor_ref),
            vpc_id,
            nics,
            root_volume,
            data_volumes,
            availability_zone: server.availability_zone.filter(|az| !az.is_empty()),
            spread_over_azs: false,
            metadata: server.metadata,
            tags: server.tags.into_iter().map(|key| Tag { key, value: String::new() }).collect(),
            security_group_ids,
            key_name: server.key_name.filter(|k| !k.is_empty()),
            user_data: server.user_data,
            admin_pass: server.admin_pass,
            description: server.description.unwrap_or_default(),
            server_group_id,
            metadata_options: Default::default(),
        })
    }
}

/// `POST /v2.1/{project_id}/servers`: servers made as by an ECS create (one job, one sub-job
/// per server); the answer names the first.
#[utoipa::path(
    post,
    path = "/v2.1/{project_id}/servers",
    operation_id = "NovaCreateServer",
    tag = "Nova",
    params(ProjectPath),
    request_body = CreateServerRequest,
    responses(
        (status = 202, description = "Accepted: the servers exist (BUILD) and become ACTIVE.",
         body = CreatedServerResponse),
        (status = 400, description = "Invalid request, unknown flavor, image, network or security group.",
         body = super::wire::NovaFault),
        (status = 403, description = "Quota exceeded, or another project.", body = super::wire::NovaFault),
        (status = 409, description = "No network given and several to choose from, or a security group name several groups share.",
         body = super::wire::NovaFault),
    )
)]
pub async fn nova_create_server(
    State(ecs): State<Arc<Ecs>>,
    NovaProject(project_id): NovaProject,
    BaseUrl(base): BaseUrl,
    NovaJson(request): NovaJson<CreateServerRequest>,
) -> NovaResult<Response> {
    let mut create = request.into_domain(ecs.catalogue())?;
    let project = project_id.clone();
    let accepted = crate::api::blocking(&ecs, move |ecs| {
        create.security_group_ids = ecs.security_groups_named(&project, &create.security_group_ids)?;
        ecs.create_servers(&project, &create, false, None)
    })
    .await
    .map_err(|refused| match refused.0.code {
        ErrorCode::KeypairNotFound => NovaError::bad_request("Invalid key_name provided."),
        // Nova answers 400 for a group it cannot find, 409 for a name several groups share.
        ErrorCode::SecurityGroupNotFound => NovaError::bad_request(refused.0.message),
        ErrorCode::SecurityGroupAmbiguous => NovaError::conflict(refused.0.message),
        _ => NovaError::from(refused),
    })?;
    let CreateAccepted::Job { server_ids, .. } = accepted else {
        return Err(NovaError::bad_request("Nothing was created."));
    };
    let id = server_ids.into_iter().next().unwrap_or_default();
    let shown = blocking(&ecs, {
        let (project, id) = (project_id.clone(), id.clone());
        move |ecs| Ok(ecs.show_server_named(&project, &id).ok())
    })
    .await?;
    let server = CreatedServer {
        links: server_links(&base, &project_id, &id),
        id,
        disk_config: "MANUAL",
        security_groups: shown.as_ref().map(|(s, names)| security_group_names(s, names)).unwrap_or_default(),
    };
    Ok((StatusCode::ACCEPTED, Json(CreatedServerResponse { server })).into_response())
}

/// The filters and paging of Nova's server lists, as openstacksdk and the CLI send them.
#[derive(Debug, Default, Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct NovaListQuery {
    /// A pattern: `^` and `$` anchor it, `.` matches any character.
    pub name: Option<String>,
    pub status: Option<String>,
    /// A flavor id.
    pub flavor: Option<String>,
    /// An image id.
    pub image: Option<String>,
    /// Servers changed at or after this time (ISO 8601).
    #[serde(rename = "changes-since")]
    pub changes_since: Option<String>,
    /// `true` lists deleted servers, which ecsd does not keep; `false` is the default.
    pub deleted: Option<String>,
    pub reservation_id: Option<String>,
    pub limit: Option<String>,
    /// The id of the last server of the previous page.
    pub marker: Option<String>,
}

/// Whether a name matches Nova's `name` filter: `^` and `$` anchor, `.` is any character.
fn name_matches(name: &str, pattern: &str) -> bool {
    let (start, rest) = match pattern.strip_prefix('^') {
        Some(rest) => (true, rest),
        None => (false, pattern),
    };
    let (end, core) = match rest.strip_suffix('$') {
        Some(core) => (true, core),
        None => (false, rest),
    };
    let name: Vec<char> = name.chars().collect();
    let width = core.chars().count();
    if width > name.len() {
        return false;
    }
    let at = |offset: usize| fuzzy_contains(&name[offset..offset + width].iter().collect::<String>(), core);
    match (start, end) {
        (true, true) => width == name.len() && at(0),
        (true, false) => at(0),
        (false, true) => at(name.len() - width),
        (false, false) => fuzzy_contains(&name.iter().collect::<String>(), core),
    }
}

fn parse_time(text: &str) -> NovaResult<Timestamp> {
    use time::format_description::well_known::Rfc3339;
    let text = text.trim().replace(' ', "T");
    Timestamp::parse(&text, &Rfc3339)
        .or_else(|_| Timestamp::parse(&format!("{text}Z"), &Rfc3339))
        .map_err(|_| NovaError::bad_request(format!("Invalid changes-since value: {text}")))
}

/// The servers of a list, filtered and paged as Nova does, the `next` link, and the names of
/// the project's security groups (read with the servers).
async fn listed(
    ecs: &Arc<Ecs>,
    project_id: &str,
    query: NovaListQuery,
    version: Microversion,
    next_url: impl Fn(&str, u64) -> String,
) -> NovaResult<(Vec<Server>, Vec<Link>, GroupNames)> {
    let status = match query.status.as_deref() {
        None => None,
        Some(text) => match Status::parse(&text.to_ascii_uppercase()) {
            Some(status) => Some(status),
            None if version.at_least(38) => {
                return Err(NovaError::bad_request(format!("Invalid status value: {text}")));
            }
            None => return Ok((vec![], vec![], GroupNames::new())),
        },
    };
    if query.deleted.as_deref().is_some_and(|d| ["true", "1", "yes"].contains(&d.to_ascii_lowercase().as_str())) {
        return Ok((vec![], vec![], GroupNames::new()));
    }
    let limit = match query.limit.as_deref() {
        None => None,
        Some(text) => Some(
            text.parse::<u64>()
                .map_err(|_| NovaError::bad_request(format!("limit must be a non-negative integer, not {text}.")))?,
        ),
    };
    let changes_since = query.changes_since.as_deref().map(parse_time).transpose()?;
    let filter = ServerFilter {
        status,
        flavor: query.flavor.clone(),
        reservation_id: query.reservation_id.clone(),
        ..ServerFilter::default()
    };
    filter.validate().map_err(NovaError::from)?;
    let project = project_id.to_string();
    let (all, names) = blocking(ecs, move |ecs| ecs.list_all_servers_named(&project, &filter)).await?;
    let mut servers: Vec<Server> = all
        .into_iter()
        .filter(|s| query.name.as_deref().is_none_or(|pattern| name_matches(&s.name, pattern)))
        .filter(|s| query.image.as_deref().is_none_or(|image| s.image_id == image))
        .filter(|s| changes_since.is_none_or(|since| s.updated >= since))
        .collect();
    if let Some(marker) = &query.marker {
        let at = servers
            .iter()
            .position(|s| s.id == *marker)
            .ok_or_else(|| NovaError::bad_request(format!("marker [{marker}] not found")))?;
        servers.drain(..=at);
    }
    let mut links = vec![];
    if let Some(limit) = limit {
        if servers.len() as u64 > limit
            && let Some(last) = servers.get(limit.saturating_sub(1) as usize)
            && limit > 0
        {
            links.push(Link { rel: "next", href: next_url(&last.id, limit) });
        }
        servers.truncate(limit as usize);
    }
    Ok((servers, links, names))
}

/// `GET /v2.1/{project_id}/servers`.
#[utoipa::path(
    get,
    path = "/v2.1/{project_id}/servers",
    operation_id = "NovaListServers",
    tag = "Nova",
    params(ProjectPath, NovaListQuery),
    responses(
        (status = 200, description = "The servers, newest first: ids, names, links.", body = ServersResponse),
        (status = 400, description = "Invalid filter, limit or marker.", body = super::wire::NovaFault),
    )
)]
pub async fn nova_list_servers(
    State(ecs): State<Arc<Ecs>>,
    NovaProject(project_id): NovaProject,
    BaseUrl(base): BaseUrl,
    version: Microversion,
    NovaQuery(query): NovaQuery<NovaListQuery>,
) -> NovaResult<Json<ServersResponse>> {
    let url = format!("{base}/v2.1/{project_id}/servers");
    let (servers, servers_links, _) =
        listed(&ecs, &project_id, query, version, |marker, limit| format!("{url}?limit={limit}&marker={marker}"))
            .await?;
    let servers = servers
        .iter()
        .map(|s| ServerSummary {
            id: s.id.clone(),
            name: s.name.clone(),
            links: server_links(&base, &project_id, &s.id),
        })
        .collect();
    Ok(Json(ServersResponse { servers, servers_links }))
}

/// `GET /v2.1/{project_id}/servers/detail`.
#[utoipa::path(
    get,
    path = "/v2.1/{project_id}/servers/detail",
    operation_id = "NovaListServersDetails",
    tag = "Nova",
    params(ProjectPath, NovaListQuery),
    responses(
        (status = 200, description = "The servers, newest first, in full.", body = ServersDetailResponse),
        (status = 400, description = "Invalid filter, limit or marker.", body = super::wire::NovaFault),
    )
)]
pub async fn nova_list_servers_detail(
    State(ecs): State<Arc<Ecs>>,
    NovaProject(project_id): NovaProject,
    BaseUrl(base): BaseUrl,
    version: Microversion,
    NovaQuery(query): NovaQuery<NovaListQuery>,
) -> NovaResult<Json<ServersDetailResponse>> {
    let url = format!("{base}/v2.1/{project_id}/servers/detail");
    let (servers, servers_links, names) =
        listed(&ecs, &project_id, query, version, |marker, limit| format!("{url}?limit={limit}&marker={marker}"))
            .await?;
    let servers = servers.iter().map(|s| NovaServer::of(s, ecs.catalogue(), &names, &base, version)).collect();
    Ok(Json(ServersDetailResponse { servers, servers_links }))
}

async fn server(ecs: &Arc<Ecs>, project_id: &str, server_id: &str) -> NovaResult<Server> {
    let (project, id) = (project_id.to_string(), server_id.to_string());
    blocking(ecs, move |ecs| Ok(ecs.show_server(&project, &id).ok()))
        .await?
        .ok_or_else(|| NovaError::no_such_server(server_id))
}

/// `GET /v2.1/{project_id}/servers/{server_id}`.
#[utoipa::path(
    get,
    path = "/v2.1/{project_id}/servers/{server_id}",
    operation_id = "NovaShowServer",
    tag = "Nova",
    params(ProjectPath, ServerPath),
    responses(
        (status = 200, description = "The server.", body = ServerResponse),
        (status = 404, description = "No such server in the project.", body = super::wire::NovaFault),
    )
)]
pub async fn nova_show_server(
    State(ecs): State<Arc<Ecs>>,
    NovaProject(project_id): NovaProject,
    NovaPath(ServerPath { server_id }): NovaPath<ServerPath>,
    BaseUrl(base): BaseUrl,
    version: Microversion,
) -> NovaResult<Json<ServerResponse>> {
    let (project, id) = (project_id.clone(), server_id.clone());
    let (server, names) = blocking(&ecs, move |ecs| Ok(ecs.show_server_named(&project, &id).ok()))
        .await?
        .ok_or_else(|| NovaError::no_such_server(&server_id))?;
    Ok(Json(ServerResponse { server: NovaServer::of(&server, ecs.catalogue(), &names, &base, version) }))
}

/// `PUT /v2.1/{project_id}/servers/{server_id}`: the name, and from 2.19 the description.
#[utoipa::path(
    put,
    path = "/v2.1/{project_id}/servers/{server_id}",
    operation_id = "NovaUpdateServer",
    tag = "Nova",
    params(ProjectPath, ServerPath),
    request_body = UpdateServerRequest,
    responses(
        (status = 200, description = "The server after the update.", body = ServerResponse),
        (status = 400, description = "Invalid name or description.", body = super::wire::NovaFault),
        (status = 404, description = "No such server in the project.", body = super::wire::NovaFault),
        (status = 409, description = "The server is busy, locked or being deleted.", body = super::wire::NovaFault),
    )
)]
pub async fn nova_update_server(
    State(ecs): State<Arc<Ecs>>,
    NovaProject(project_id): NovaProject,
    NovaPath(ServerPath { server_id }): NovaPath<ServerPath>,
    BaseUrl(base): BaseUrl,
    version: Microversion,
    NovaJson(request): NovaJson<UpdateServerRequest>,
) -> NovaResult<Json<ServerResponse>> {
    if request.server.description.is_some() && !version.at_least(19) {
        return Err(NovaError::bad_request("description needs microversion 2.19 or later."));
    }
    server(&ecs, &project_id, &server_id).await?;
    let update = ServerUpdate { name: request.server.name, description: request.server.description };
    let (updated, names) = blocking(&ecs, move |ecs| {
        Ok((ecs.update_server(&project_id, &server_id, &update)?, ecs.security_group_names(&project_id)?))
    })
    .await?;
    Ok(Json(ServerResponse { server: NovaServer::of(&updated, ecs.catalogue(), &names, &base, version) }))
}

/// Runs a job-based operation on one server as a batch of one; a server the operation may not
/// start on is a conflict (409), as Nova answers, rather than a failed sub-job.
async fn operate(ecs: &Arc<Ecs>, project_id: &str, server_id: &str, action: BatchAction, verb: &str) -> NovaResult<()> {
    server(ecs, project_id, server_id).await?;
    let (project, id) = (project_id.to_string(), server_id.to_string());
    let job = blocking(ecs, move |ecs| {
        let job_id = ecs.batch_operate(&project, vec![id], action)?;
        ecs.show_job(&project, &job_id)
    })
    .await?;
    let refused = job.iter().flat_map(|job| &job.sub_jobs).find(|sub| sub.status == JobStatus::Fail && sub.step == 0);
    if let Some(refused) = refused {
        let reason = refused.failure.as_ref().map_or("", |f| f.reason.as_str());
        return Err(NovaError::conflict(format!("Cannot '{verb}' instance {server_id}: {reason}")));
    }
    Ok(())
}

/// `DELETE /v2.1/{project_id}/servers/{server_id}`.
#[utoipa::path(
    delete,
    path = "/v2.1/{project_id}/servers/{server_id}",
    operation_id = "NovaDeleteServer",
    tag = "Nova",
    params(ProjectPath, ServerPath),
    responses(
        (status = 204, description = "Accepted: the server is deleted (it shows until the job ends)."),
        (status = 404, description = "No such server in the project.", body = super::wire::NovaFault),
        (status = 409, description = "The server is locked, or already being deleted.", body = super::wire::NovaFault),
    )
)]
pub async fn nova_delete_server(
    State(ecs): State<Arc<Ecs>>,
    NovaProject(project_id): NovaProject,
    NovaPath(ServerPath { server_id }): NovaPath<ServerPath>,
) -> NovaResult<StatusCode> {
    operate(&ecs, &project_id, &server_id, BatchAction::Delete { delete_volume: false }, "delete").await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v2.1/{project_id}/servers/{server_id}/action`: `os-start`, `os-stop`, `reboot`
/// (`SOFT`/`HARD`), `lock`, `unlock`, `os-getConsoleOutput`, `addSecurityGroup`,
/// `removeSecurityGroup`, `resize`, `confirmResize`, `revertResize`, told apart by the body's
/// key (whose value may be null).
#[utoipa::path(
    post,
    path = "/v2.1/{project_id}/servers/{server_id}/action",
    operation_id = "NovaServerAction",
    tag = "Nova",
    params(ProjectPath, ServerPath),
    request_body = ServerAction,
    responses(
        (status = 200, description = "`os-getConsoleOutput`: the console's last lines.", body = ConsoleOutput),
        (status = 202, description = "Accepted: the operation runs as a job."),
        (status = 204, description = "`confirmResize`: accepted; the server becomes what it was on its new flavor."),
        (status = 400, description = "No known action, or invalid arguments (a resize to an unknown flavor, to the \
same flavor or one of another architecture).", body = super::wire::NovaFault),
        (status = 403, description = "`resize`: the new flavor exceeds the quota.", body = super::wire::NovaFault),
        (status = 404, description = "No such server in the project, or no such security group.", body = super::wire::NovaFault),
        (status = 409, description = "The server's state does not allow the action.", body = super::wire::NovaFault),
    )
)]
pub async fn nova_server_action(
    State(ecs): State<Arc<Ecs>>,
    NovaProject(project_id): NovaProject,
    NovaPath(ServerPath { server_id }): NovaPath<ServerPath>,
    current: Option<Extension<Current>>,
    NovaJson(action): NovaJson<ServerAction>,
) -> NovaResult<Response> {
    let Some(Extension(Current(operation))) = current else {
        return Err(NovaError::bad_request("There is no such action, or more than one was given."));
    };
    let accepted = || StatusCode::ACCEPTED.into_response();
    match operation.name.as_str() {
        "NovaStartServer" => {
            operate(&ecs, &project_id, &server_id, BatchAction::Start, "start").await.map(|()| accepted())
        }
        "NovaStopServer" => {
            operate(&ecs, &project_id, &server_id, BatchAction::Stop { hard: false }, "stop").await.map(|()| accepted())
        }
        "NovaRebootServer" => {
            let hard = match action.reboot.map(|r| r.reboot_type.to_ascii_uppercase()).as_deref() {
                Some("SOFT") => false,
                Some("HARD") => true,
                _ => return Err(NovaError::bad_request("reboot needs a type: SOFT or HARD.")),
            };
            operate(&ecs, &project_id, &server_id, BatchAction::Reboot { hard }, "reboot").await.map(|()| accepted())
        }
        "NovaAssociateSecurityGroup" => {
            super::interfaces::change_security_group(&ecs, project_id, server_id, action.add_security_group, true)
                .await
                .map(IntoResponse::into_response)
        }
        "NovaDisassociateSecurityGroup" => {
            super::interfaces::change_security_group(&ecs, project_id, server_id, action.remove_security_group, false)
                .await
                .map(IntoResponse::into_response)
        }
        "NovaResizeServer" => {
            let flavor = action
                .resize
                .and_then(|r| r.flavor_ref)
                .filter(|f| !f.is_empty())
                .ok_or_else(|| NovaError::bad_request("Resize requests require 'flavorRef' attribute."))?;
            let request =
                ResizeRequest { flavor_id: last_segment(&flavor), with_stop: false, dry_run: false, verify: true };
            let id = server_id.clone();
            crate::api::blocking(&ecs, move |ecs| ecs.resize_server(&project_id, &id, &request)).await.map_err(
                |refused| match refused.0.code {
                    ErrorCode::ServerNotFound => NovaError::no_such_server(&server_id),
                    ErrorCode::FlavorNotFound => NovaError::bad_request("Unable to locate requested flavor."),
                    ErrorCode::SameFlavor => NovaError::bad_request("When resizing, instances must change flavor!"),
                    _ => NovaError::from(refused),
                },
            )?;
            Ok(accepted())
        }
        "NovaConfirmResizeServer" | "NovaRevertResizeServer" => {
            let revert = operation.name == "NovaRevertResizeServer";
            server(&ecs, &project_id, &server_id).await?;
            blocking(&ecs, move |ecs| ecs.finish_resize_server(&project_id, &server_id, revert)).await?;
            // Nova answers a confirm 204 and a revert 202.
            Ok(if revert { accepted() } else { StatusCode::NO_CONTENT.into_response() })
        }
        "NovaLockServer" | "NovaUnlockServer" => {
            let locked = operation.name == "NovaLockServer";
            server(&ecs, &project_id, &server_id).await?;
            blocking(&ecs, move |ecs| ecs.lock_server(&project_id, &server_id, locked)).await?;
            Ok(accepted())
        }
        _ => {
            let length = match action.console_output.and_then(|c| c.length) {
                None | Some(serde_json::Value::Null) => -1,
                Some(serde_json::Value::Number(n)) => {
                    n.as_i64().ok_or_else(|| NovaError::bad_request("Invalid length."))?
                }
                Some(serde_json::Value::String(s)) => {
                    s.trim().parse().map_err(|_| NovaError::bad_request(format!("Invalid length: {s}.")))?
                }
                Some(other) => return Err(NovaError::bad_request(format!("Invalid length: {other}."))),
            };
            server(&ecs, &project_id, &server_id).await?;
            let output =
                blocking(&ecs, move |ecs| ecs.show_server_console_output(&project_id, &server_id, length)).await?;
            Ok(Json(ConsoleOutput { output }).into_response())
        }
    }
}

/// `GET /v2.1/{project_id}/servers/{server_id}/os-instance-actions`: the server's history.
#[utoipa::path(
    get,
    path = "/v2.1/{project_id}/servers/{server_id}/os-instance-actions",
    operation_id = "NovaListInstanceActions",
    tag = "Nova",
    params(ProjectPath, ServerPath),
    responses(
        (status = 200, description = "One action per operation the server went through, newest first.",
         body = InstanceActions),
        (status = 404, description = "No such server in the project.", body = super::wire::NovaFault),
    )
)]
pub async fn nova_list_instance_actions(
    State(ecs): State<Arc<Ecs>>,
    NovaProject(project_id): NovaProject,
    NovaPath(ServerPath { server_id }): NovaPath<ServerPath>,
) -> NovaResult<Json<InstanceActions>> {
    let id = server_id.clone();
    let subs = blocking(&ecs, move |ecs| ecs.list_instance_actions(&project_id, &id))
        .await
        .map_err(|e| if e.status == StatusCode::NOT_FOUND { NovaError::no_such_server(&server_id) } else { e })?;
    Ok(Json(InstanceActions { instance_actions: subs.iter().rev().map(|s| InstanceAction::of(s, false)).collect() }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct InstanceActionPath {
    pub server_id: String,
    /// The `request_id` of the action (the id of its job).
    pub request_id: String,
}

/// `GET /v2.1/{project_id}/servers/{server_id}/os-instance-actions/{request_id}`.
#[utoipa::path(
    get,
    path = "/v2.1/{project_id}/servers/{server_id}/os-instance-actions/{request_id}",
    operation_id = "NovaShowInstanceAction",
    tag = "Nova",
    params(ProjectPath, InstanceActionPath),
    responses(
        (status = 200, description = "The action with its event.", body = InstanceActionResponse),
        (status = 404, description = "No such server, or no such action of it.", body = super::wire::NovaFault),
    )
)]
pub async fn nova_show_instance_action(
    State(ecs): State<Arc<Ecs>>,
    NovaProject(project_id): NovaProject,
    NovaPath(InstanceActionPath { server_id, request_id }): NovaPath<InstanceActionPath>,
) -> NovaResult<Json<InstanceActionResponse>> {
    let id = server_id.clone();
    let subs = blocking(&ecs, move |ecs| ecs.list_instance_actions(&project_id, &id))
        .await
        .map_err(|e| if e.status == StatusCode::NOT_FOUND { NovaError::no_such_server(&server_id) } else { e })?;
    let sub = subs.iter().find(|s| s.job_id == request_id).ok_or_else(|| {
        NovaError::not_found(format!("Action {request_id} on instance {server_id} could not be found."))
    })?;
    Ok(Json(InstanceActionResponse { instance_action: InstanceAction::of(sub, true) }))
}

/// `GET /v2.1/{project_id}/servers/{server_id}/metadata`.
#[utoipa::path(
    get,
    path = "/v2.1/{project_id}/servers/{server_id}/metadata",
    operation_id = "NovaListServerMetadata",
    tag = "Nova",
    params(ProjectPath, ServerPath),
    responses(
        (status = 200, description = "The server's user metadata.", body = MetadataBody),
        (status = 404, description = "No such server in the project.", body = super::wire::NovaFault),
    )
)]
pub async fn nova_list_server_metadata(
    State(ecs): State<Arc<Ecs>>,
    NovaProject(project_id): NovaProject,
    NovaPath(ServerPath { server_id }): NovaPath<ServerPath>,
) -> NovaResult<Json<MetadataBody>> {
    Ok(Json(MetadataBody { metadata: server(&ecs, &project_id, &server_id).await?.metadata }))
}

async fn change_metadata(
    ecs: &Arc<Ecs>,
    project_id: String,
    server_id: String,
    replace: bool,
    metadata: BTreeMap<String, String>,
) -> NovaResult<BTreeMap<String, String>> {
    server(ecs, &project_id, &server_id).await?;
    blocking(ecs, move |ecs| {
        if replace {
            ecs.replace_server_metadata(&project_id, &server_id, &metadata)
        } else {
            ecs.update_server_metadata(&project_id, &server_id, &metadata)
        }
    })
    .await
}

/// `POST /v2.1/{project_id}/servers/{server_id}/metadata`: adds or replaces the pairs given.
#[utoipa::path(
    post,
    path = "/v2.1/{project_id}/servers/{server_id}/metadata",
    operation_id = "NovaCreateServerMetadata",
    tag = "Nova",
    params(ProjectPath, ServerPath),
    request_body = MetadataBody,
    responses(
        (status = 200, description = "All the user metadata after the update.", body = MetadataBody),
        (status = 400, description = "Invalid or too many pairs.", body = super::wire::NovaFault),
        (status = 404, description = "No such server in the project.", body = super::wire::NovaFault),
        (status = 409, description = "The server is busy, locked or not running or stopped.", body = super::wire::NovaFault),
    )
)]
pub async fn nova_create_server_metadata(
    State(ecs): State<Arc<Ecs>>,
    NovaProject(project_id): NovaProject,
    NovaPath(ServerPath { server_id }): NovaPath<ServerPath>,
    NovaJson(body): NovaJson<MetadataBody>,
) -> NovaResult<Json<MetadataBody>> {
    let metadata = change_metadata(&ecs, project_id, server_id, false, body.metadata).await?;
    Ok(Json(MetadataBody { metadata }))
}

/// `PUT /v2.1/{project_id}/servers/{server_id}/metadata`: replaces all the user metadata.
#[utoipa::path(
    put,
    path = "/v2.1/{project_id}/servers/{server_id}/metadata",
    operation_id = "NovaUpdateServerMetadata",
    tag = "Nova",
    params(ProjectPath, ServerPath),
    request_body = MetadataBody,
    responses(
        (status = 200, description = "The user metadata, now exactly the pairs given.", body = MetadataBody),
        (status = 400, description = "Invalid or too many pairs.", body = super::wire::NovaFault),
        (status = 404, description = "No such server in the project.", body = super::wire::NovaFault),
        (status = 409, description = "The server is busy, locked or not running or stopped.", body = super::wire::NovaFault),
    )
)]
pub async fn nova_replace_server_metadata(
    State(ecs): State<Arc<Ecs>>,
    NovaProject(project_id): NovaProject,
    NovaPath(ServerPath { server_id }): NovaPath<ServerPath>,
    NovaJson(body): NovaJson<MetadataBody>,
) -> NovaResult<Json<MetadataBody>> {
    let metadata = change_metadata(&ecs, project_id, server_id, true, body.metadata).await?;
    Ok(Json(MetadataBody { metadata }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct MetadataKeyPath {
    pub server_id: String,
    pub key: String,
}

/// `GET /v2.1/{project_id}/servers/{server_id}/metadata/{key}`.
#[utoipa::path(
    get,
    path = "/v2.1/{project_id}/servers/{server_id}/metadata/{key}",
    operation_id = "NovaShowServerMetadataItem",
    tag = "Nova",
    params(ProjectPath, MetadataKeyPath),
    responses(
        (status = 200, description = "The pair.", body = MetaItem),
        (status = 404, description = "No such server, or no such key.", body = super::wire::NovaFault),
    )
)]
pub async fn nova_show_server_metadata_item(
    State(ecs): State<Arc<Ecs>>,
    NovaProject(project_id): NovaProject,
    NovaPath(MetadataKeyPath { server_id, key }): NovaPath<MetadataKeyPath>,
) -> NovaResult<Json<MetaItem>> {
    let metadata = server(&ecs, &project_id, &server_id).await?.metadata;
    let value = metadata.get(&key).ok_or_else(|| NovaError::not_found("Metadata item was not found"))?;
    Ok(Json(MetaItem { meta: BTreeMap::from([(key, value.clone())]) }))
}

/// `PUT /v2.1/{project_id}/servers/{server_id}/metadata/{key}`: sets one pair.
#[utoipa::path(
    put,
    path = "/v2.1/{project_id}/servers/{server_id}/metadata/{key}",
    operation_id = "NovaUpdateServerMetadataItem",
    tag = "Nova",
    params(ProjectPath, MetadataKeyPath),
    request_body = MetaItem,
    responses(
        (status = 200, description = "The pair as set.", body = MetaItem),
        (status = 400, description = "The body's key is not the path's, or the pair is invalid.", body = super::wire::NovaFault),
        (status = 404, description = "No such server in the project.", body = super::wire::NovaFault),
        (status = 409, description = "The server is busy, locked or not running or stopped.", body = super::wire::NovaFault),
    )
)]
pub async fn nova_set_server_metadata_item(
    State(ecs): State<Arc<Ecs>>,
    NovaProject(project_id): NovaProject,
    NovaPath(MetadataKeyPath { server_id, key }): NovaPath<MetadataKeyPath>,
    NovaJson(body): NovaJson<MetaItem>,
) -> NovaResult<Json<MetaItem>> {
    if body.meta.len() != 1 || !body.meta.contains_key(&key) {
        return Err(NovaError::bad_request("Request body and URI mismatch"));
    }
    change_metadata(&ecs, project_id, server_id, false, body.meta.clone()).await?;
    Ok(Json(body))
}

/// `DELETE /v2.1/{project_id}/servers/{server_id}/metadata/{key}`.
#[utoipa::path(
    delete,
    path = "/v2.1/{project_id}/servers/{server_id}/metadata/{key}",
    operation_id = "NovaDeleteServerMetadataItem",
    tag = "Nova",
    params(ProjectPath, MetadataKeyPath),
    responses(
        (status = 204, description = "The pair is gone."),
        (status = 404, description = "No such server, or no such key.", body = super::wire::NovaFault),
        (status = 409, description = "The server is busy, locked or not running or stopped.", body = super::wire::NovaFault),
    )
)]
pub async fn nova_delete_server_metadata_item(
    State(ecs): State<Arc<Ecs>>,
    NovaProject(project_id): NovaProject,
    NovaPath(MetadataKeyPath { server_id, key }): NovaPath<MetadataKeyPath>,
) -> NovaResult<StatusCode> {
    if !server(&ecs, &project_id, &server_id).await?.metadata.contains_key(&key) {
        return Err(NovaError::not_found("Metadata item was not found"));
    }
    blocking(&ecs, move |ecs| ecs.delete_server_metadata(&project_id, &server_id, &key)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_pattern_anchors_with_caret_and_dollar() {
        assert!(name_matches("web-01", "web"));
        assert!(name_matches("web-01", "^web-01$"));
        assert!(!name_matches("web-011", "^web-01$"));
        assert!(name_matches("my-web", "web$"));
        assert!(!name_matches("my-web-1", "web$"));
        assert!(!name_matches("my-web", "^web"));
        assert!(name_matches("web-01", "^web-.1$"));
        assert!(!name_matches("db", "^web$"));
    }

    #[test]
    fn a_reference_may_be_a_url() {
        assert_eq!(last_segment("s6.large.2"), "s6.large.2");
        assert_eq!(last_segment("http://h/v2.1/p/flavors/s6.large.2"), "s6.large.2");
    }
}
