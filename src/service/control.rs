//! Test control: fault rules, reset, snapshots, time and fixtures (`/_ecsd/...`).

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use super::{Ecs, placement};
use crate::domain::create::{CreateServers, NicRequest, VolumeRequest};
use crate::domain::faults::{FaultEffect, FaultOperation, FaultRule, FaultSpec, LoadedRules, Stage, wire_name};
use crate::domain::groups::{self, ServerGroup};
use crate::domain::metadata::MetadataOptions;
use crate::domain::server::{Server, Tag, Timestamp};
use crate::domain::status::VmState;
use crate::domain::{Error, ErrorCode, Result, job::new_job_id};
use crate::engine::apply;
use crate::store::{Topic, WriteTx, read, transact};

/// How far simulated time may run ahead of real time, in all: far enough for any test, and far
/// from the end of the calendar.
const MAX_CLOCK_ADVANCE_YEARS: i64 = 100;
const MAX_CLOCK_ADVANCE_MS: i64 = MAX_CLOCK_ADVANCE_YEARS * 366 * 24 * 3600 * 1000;

/// Whose state a control call may reach: an admin credential (or any caller when
/// authentication is off) reaches every project, any other credential only its own project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    Everything,
    Project(String),
}

impl Reach {
    /// Whether a fault rule is one the caller may see and change: an admin sees every rule,
    /// others the rules of their own project.
    fn sees(&self, rule: &FaultRule) -> bool {
        match self {
            Reach::Everything => true,
            Reach::Project(own) => rule.spec.project_id.as_deref() == Some(own.as_str()),
        }
    }

    /// Refuses an action on the whole state unless the caller may reach every project.
    fn must_reach_everything(&self) -> Result<()> {
        match self {
            Reach::Everything => Ok(()),
            Reach::Project(_) => Err(Error::of(ErrorCode::NotAdmin)),
        }
    }
}

/// Another project than the caller's, named by a caller without an admin credential.
fn other_project(what: &str) -> Error {
    Error::new(ErrorCode::Forbidden, format!("{what} only the caller's own project without an admin credential."))
}

/// What a request-level fault asks of the request.
pub enum RequestFault {
    Delay(std::time::Duration),
    Fail(Error),
}

/// A server of a fixture fleet, created directly in a stable status.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FixtureServer {
    pub name: String,
    /// Default `s6.small.1`.
    #[serde(default = "default_fixture_flavor")]
    pub flavor: String,
    /// An image id; the first active image when absent.
    pub image: Option<String>,
    #[serde(default)]
    pub status: FixtureStatus,
    /// `key=value` or `key`.
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub locked: bool,
    pub availability_zone: Option<String>,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// How many servers like this one (names get `-0000` suffixes when more than one); default 1.
    #[serde(default = "one")]
    #[schema(minimum = 1, maximum = 100)]
    pub count: u32,
    /// The name of one of the fixtures' `server_groups`: the servers are its members, each on
    /// its own host.
    pub server_group: Option<String>,
}

/// An ECS group (anti-affinity) of a fixture fleet.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FixtureServerGroup {
    /// Unique among the fixtures' groups; servers name their group by it.
    pub name: String,
}

/// The stable status a fixture server is created in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FixtureStatus {
    #[default]
    Active,
    Shutoff,
}

fn default_fixture_flavor() -> String {
    "s6.small.1".into()
}
fn one() -> u32 {
    1
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixtures {
    pub servers: Vec<FixtureServer>,
    /// ECS groups to create, which `servers` may join.
    #[serde(default)]
    pub server_groups: Vec<FixtureServerGroup>,
}

impl Ecs {
    /// Whether the store answers a read, for the health answer.
    pub fn check_store(&self) -> Result<()> {
        read(self.store.as_ref(), |tx| tx.clock_advanced_ms()).map(|_| ())
    }

    /// The request-level fault (`http_error`, `delay`) that fires for this operation, if any.
    pub fn request_fault(&self, project_id: &str, operation: FaultOperation) -> Result<Option<RequestFault>> {
        // Every write request asks; without a matching rule it must not queue for the writer.
        let rules = read(self.store.as_ref(), |tx| tx.fault_rules())?;
        if !rules.iter().any(|rule| rule.matches(Stage::Request, operation, project_id, None)) {
            return Ok(None);
        }
        transact(self.store.as_ref(), |tx| {
            let mut rules = LoadedRules::new(tx.fault_rules()?);
            let fired = rules.fire(Stage::Request, operation, project_id, None);
            save_rules(tx, &rules)?;
            Ok(fired.and_then(|(_, effect)| match effect {
                FaultEffect::Delay { ms } => Some(RequestFault::Delay(std::time::Duration::from_millis(ms))),
                FaultEffect::HttpError { status, ref code, .. } => {
                    let (_, message) = effect.failure()?;
                    Some(RequestFault::Fail(Error::injected(status, code, message)))
                }
                _ => None,
            }))
        })
    }

    /// Adds a rule. Without an admin credential the rule is the caller's project's: it
    /// matches only that project, and naming another is refused.
    pub fn add_fault(&self, reach: &Reach, mut spec: FaultSpec) -> Result<FaultRule> {
        spec.validate()?;
        if let Reach::Project(own) = reach {
            match &spec.project_id {
                Some(named) if named != own => return Err(other_project("A fault rule can name")),
                _ => spec.project_id = Some(own.clone()),
            }
        }
        let rule = FaultRule { id: new_job_id(), spec, fired: 0, evaluations: 0 };
        transact(self.store.as_ref(), |tx| tx.put_fault_rule(&rule))?;
        tracing::info!(
            rule_id = %rule.id,
            operation = wire_name(&rule.spec.operation),
            effect = rule.spec.effect.kind(),
            project_id = rule.spec.project_id.as_deref().unwrap_or("all"),
            "fault rule added"
        );
        Ok(rule)
    }

    /// The rules the caller may see, in creation order.
    pub fn list_faults(&self, reach: &Reach) -> Result<Vec<FaultRule>> {
        let rules = read(self.store.as_ref(), |tx| tx.fault_rules())?;
        Ok(rules.into_iter().filter(|rule| reach.sees(rule)).collect())
    }

    /// Removes a rule; the sub-jobs it held go on. Another project's rule is not found.
    pub fn delete_fault(&self, reach: &Reach, id: &str) -> Result<()> {
        let released = transact(self.store.as_ref(), |tx| {
            if !tx.fault_rules()?.iter().any(|rule| rule.id == id && reach.sees(rule)) || !tx.delete_fault_rule(id)? {
                return Err(not_found("fault rule", id));
            }
            tx.release_held(id)
        })?;
        tracing::info!(rule_id = id, released = released.len(), "fault rule deleted");
        self.engine.wake(released.iter().map(crate::engine::Wakeup::of).collect());
        Ok(())
    }

    /// Lets the sub-jobs a `hang` rule holds go on; the rule stays. Returns how many.
    pub fn release_fault(&self, reach: &Reach, id: &str) -> Result<usize> {
        let released = transact(self.store.as_ref(), |tx| {
            if !tx.fault_rules()?.iter().any(|rule| rule.id == id && reach.sees(rule)) {
                return Err(not_found("fault rule", id));
            }
            tx.release_held(id)
        })?;
        let count = released.len();
        tracing::info!(rule_id = id, released = count, "fault rule released");
        self.engine.wake(released.iter().map(crate::engine::Wakeup::of).collect());
        Ok(count)
    }

    /// Resets one project, or with `None` every project (which needs an admin credential).
    pub fn reset(&self, reach: &Reach, project_id: Option<&str>) -> Result<()> {
        match (reach, project_id) {
            (Reach::Everything, _) => {}
            (Reach::Project(own), Some(named)) if named == own => {}
            (Reach::Project(_), Some(_)) => return Err(other_project("A reset can name")),
            (Reach::Project(_), None) => return Err(Error::of(ErrorCode::NotAdmin)),
        }
        // Call records still queued would otherwise be stored after the reset.
        self.trail.flush_blocking();
        transact(self.store.as_ref(), |tx| tx.reset(project_id))?;
        self.engine.reload();
        self.engine.announce(Topic::Reload);
        tracing::info!(project_id = project_id.unwrap_or("all"), "state reset");
        Ok(())
    }

    /// Moves simulated time forward (persisted, so it never moves back), applying every
    /// transition that becomes due.
    /// Simulated time is one for every project, so moving it needs an admin credential.
    /// One advance is at most a year (`seconds` from 0 to 31536000).
    pub async fn advance_clock(&self, reach: &Reach, seconds: f64) -> Result<()> {
        if !(0.0..=31_536_000.0).contains(&seconds) {
            return Err(Error::invalid("seconds must be between 0 and 31536000."));
        }
        reach.must_reach_everything()?;
        let by = std::time::Duration::from_secs_f64(seconds);
        let too_far = || {
            Error::invalid(format!("Simulated time can be advanced by at most {MAX_CLOCK_ADVANCE_YEARS} years in all."))
        };
        let by_ms = i64::try_from(by.as_millis()).map_err(|_| too_far())?;
        // Before the store has the new time: this replica's own catch-up must not take it in.
        let _moving = crate::clock::Moving::new(self.clock.as_ref());
        transact(self.store.as_ref(), |tx| {
            if tx.clock_advanced_ms()?.saturating_add(by_ms) > MAX_CLOCK_ADVANCE_MS {
                return Err(too_far());
            }
            tx.advance_clock(by_ms)
        })?;
        tracing::info!(seconds = by.as_secs_f64(), "clock advanced");
        self.engine.announce(Topic::Clock);
        self.advance_with_timers(by).await
    }

    /// Finishes the pending transitions of the caller's project, or of every project for an
    /// admin credential (held sub-jobs stay held).
    pub async fn settle(&self, reach: &Reach) -> Result<()> {
        let project = match reach {
            Reach::Everything => None,
            Reach::Project(own) => Some(own.as_str()),
        };
        self.engine.settle(project).await?;
        tracing::info!(project_id = project.unwrap_or("all"), "settled: no transition pending");
        Ok(())
    }

    /// Snapshots hold the state of every project, so each snapshot call needs an admin
    /// credential.
    pub fn save_snapshot(&self, reach: &Reach, name: &str) -> Result<()> {
        reach.must_reach_everything()?;
        if name.is_empty() || name.len() > 64 || !name.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c)) {
            return Err(Error::invalid("A snapshot name has 1 to 64 letters, digits, '_', '.' or '-'."));
        }
        // The snapshot holds the records of every call answered before it.
        self.trail.flush_blocking();
        transact(self.store.as_ref(), |tx| tx.save_snapshot(name, self.clock.now()))?;
        tracing::info!(snapshot = name, "snapshot saved");
        Ok(())
    }

    pub fn restore_snapshot(&self, reach: &Reach, name: &str) -> Result<()> {
        reach.must_reach_everything()?;
        self.trail.flush_blocking();
        let found = transact(self.store.as_ref(), |tx| tx.restore_snapshot(name))?;
        if !found {
            return Err(not_found("snapshot", name));
        }
        self.engine.reload();
        self.engine.announce(Topic::Reload);
        tracing::info!(snapshot = name, "snapshot restored");
        Ok(())
    }

    pub fn snapshots(&self, reach: &Reach) -> Result<Vec<(String, Timestamp)>> {
        reach.must_reach_everything()?;
        read(self.store.as_ref(), |tx| tx.snapshots())
    }

    pub fn delete_snapshot(&self, reach: &Reach, name: &str) -> Result<()> {
        reach.must_reach_everything()?;
        if transact(self.store.as_ref(), |tx| tx.delete_snapshot(name))? {
            tracing::info!(snapshot = name, "snapshot deleted");
            Ok(())
        } else {
            Err(not_found("snapshot", name))
        }
    }

    /// Creates a fleet directly in its stable statuses; returns the ids in order.
    pub fn load_fixtures(&self, project_id: &str, fixtures: &Fixtures) -> Result<Vec<String>> {
        let catalogue = &self.catalogue;
        let (Some(vpc), Some(image)) = (catalogue.vpcs.first(), catalogue.images.iter().find(|i| i.status == "active"))
        else {
            return Err(Error::invalid("The catalogue has no VPC or no active image for fixtures."));
        };
        let subnet =
            catalogue.subnets.iter().find(|s| s.vpc_id == vpc.id).ok_or_else(|| Error::invalid("No subnet."))?;
        let mut group_ids: HashMap<&str, String> = HashMap::new();
        for group in &fixtures.server_groups {
            groups::check_new(&group.name, &[groups::ANTI_AFFINITY.to_string()])?;
            if group_ids.insert(group.name.as_str(), uuid::Uuid::new_v4().to_string()).is_some() {
                return Err(Error::invalid(format!("Two fixture server_groups are named {}.", group.name)));
            }
        }
        let mut planned = Vec::new();
        for fixture in &fixtures.servers {
            let server_group_id = match &fixture.server_group {
                Some(name) => Some(group_ids.get(name.as_str()).cloned().ok_or_else(|| {
                    Error::invalid(format!("The fixture server {} names no fixture server_group {name}.", fixture.name))
                })?),
                None => None,
            };
            let vm_state = match fixture.status {
                FixtureStatus::Active => VmState::Active,
                FixtureStatus::Shutoff => VmState::Stopped,
            };
            let tags = fixture
                .tags
                .iter()
                .map(|t| match t.split_once('=') {
                    Some((key, value)) => Tag { key: key.into(), value: value.into() },
                    None => Tag { key: t.clone(), value: String::new() },
                })
                .collect();
            let request = CreateServers {
                name: fixture.name.clone(),
                count: fixture.count,
                image_id: fixture.image.clone().unwrap_or_else(|| image.id.clone()),
                flavor_id: fixture.flavor.clone(),
                vpc_id: vpc.id.clone(),
                nics: vec![NicRequest { subnet_id: subnet.id.clone(), ip: None, port_id: None }],
                root_volume: VolumeRequest { volume_type: "SSD".into(), size_gib: None, multiattach: false },
                data_volumes: vec![],
                availability_zone: fixture.availability_zone.clone(),
                spread_over_azs: false,
                metadata: fixture.metadata.clone(),
                tags,
                security_group_ids: vec![],
                key_name: None,
                user_data: None,
                admin_pass: None,
                description: String::new(),
                server_group_id,
                metadata_options: MetadataOptions::default(),
            };
            request.validate(catalogue)?;
            planned.push((request, vm_state, fixture.locked));
        }
        transact(self.store.as_ref(), |tx| {
            // Read under the write lock, so times follow the order in which operations commit.
            let now = self.clock.now();
            let limit = catalogue.quota.max_server_groups;
            if limit >= 0 && tx.server_group_count(project_id)? as i64 + group_ids.len() as i64 > limit {
                return Err(groups::quota_exceeded(limit));
            }
            for group in &fixtures.server_groups {
                tx.insert_server_group(&ServerGroup {
                    id: group_ids[group.name.as_str()].clone(),
                    project_id: project_id.to_string(),
                    name: group.name.clone(),
                    policies: vec![groups::ANTI_AFFINITY.to_string()],
                    created: now,
                    members: vec![],
                })?;
            }
            let member_limit = catalogue.quota.max_server_group_members;
            let mut ids = Vec::new();
            for (request, vm_state, locked) in &planned {
                let allocation = self.allocate_addresses(tx, project_id, request, &[])?;
                let mut servers: Vec<Server> = request
                    .build(catalogue, project_id, allocation.addresses.clone(), None, now)
                    .into_iter()
                    .map(|mut server| {
                        server.vm_state = *vm_state;
                        server.task_state = None;
                        server.locked = *locked;
                        server.launched_at = Some(now);
                        server
                    })
                    .collect();
                let avoid = match &request.server_group_id {
                    Some(group_id) => {
                        let members = tx.server_group(project_id, group_id)?.map(|g| g.members).unwrap_or_default();
                        if member_limit >= 0 && (members.len() + servers.len()) as i64 > member_limit {
                            return Err(groups::members_exceeded(group_id, member_limit));
                        }
                        Some(placement::member_hosts(tx, project_id, &members, None)?)
                    }
                    None => None,
                };
                placement::place_new(tx, catalogue, &mut servers, avoid)?;
                apply::insert(tx, catalogue, &servers, &[])?;
                allocation.commit(tx, project_id)?;
                ids.extend(servers.into_iter().map(|s| s.id));
            }
            Ok(ids)
        })
        .inspect(|ids| tracing::info!(project_id, servers = ids.len(), "fixtures loaded"))
    }
}

/// Stores the rules' new counters, and the records of those that fired.
pub(super) fn save_rules(tx: &mut dyn WriteTx, rules: &LoadedRules) -> Result<()> {
    for rule in rules.changed() {
        tx.put_fault_rule(rule)?;
    }
    crate::audit::record_fired(tx, rules)
}

fn not_found(what: &str, id: &str) -> Error {
    Error::new(ErrorCode::ResourceNotFound, format!("No {what} {id}."))
}
