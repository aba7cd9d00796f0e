//! Fault rules: what a user asks ecsd to break, so client code can be tested against
//! failures. A rule matches an operation (and optionally a server, a name, a tag, a project)
//! and fires by probability or for a number of times; its effect is applied where the
//! operation would have succeeded.

use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::errors::{Error, Result};
use super::query::fuzzy_contains;
use super::server::Server;

/// The operation a fault rule matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FaultOperation {
    Create,
    Start,
    Stop,
    Reboot,
    Resize,
    Delete,
    ResetPassword,
    Rename,
    /// Remote, serial console and console-output requests.
    Console,
    ChangeChargeMode,
    AutoTerminate,
    RegisterMonitor,
    CrashDump,
    LaunchTemplate,
    ScheduledEvent,
    /// Adding or deleting tags of a server.
    Tags,
    /// Updating or deleting metadata, or the metadata service's options.
    Metadata,
    /// Creating or deleting an ECS group, adding or removing members.
    ServerGroup,
    /// Deleting the password a Windows server left.
    Password,
    /// Locking or unlocking a server (Nova's `lock`, `unlock`).
    Lock,
    /// Reinstalling a server's OS from its own image.
    Reinstall,
    /// Changing a server's OS to another image.
    ChangeOs,
    /// Cold migration (`MigrateServer`), and the live migration of a scheduled event.
    Migrate,
    Redeploy,
    /// The recycle bin's settings, its list, a revert or a purge of a server in it.
    RecycleBin,
    /// `AttachServerVolume`, `BatchAttachSharableVolumes`.
    AttachVolume,
    /// `DetachServerVolume`, `BatchDetachVolumes`.
    DetachVolume,
    /// `UpdateServerBlockDevice`.
    UpdateBlockDevice,
    /// EVS `CreateVolume`.
    CreateVolume,
    /// EVS `ResizeVolume` (`os-extend`).
    ResizeVolume,
    /// EVS `UpdateVolume`.
    UpdateVolume,
    /// EVS `DeleteVolume`.
    DeleteVolume,
    /// Creating, updating or deleting a port or a private IP (VPC).
    Port,
    /// Creating or deleting a security group or a rule (VPC).
    SecurityGroup,
    /// Adding, deleting or changing a server's NICs, its virtual IPs, or moving it to
    /// another VPC.
    Nics,
    /// Creating or deleting a Nova key pair.
    Keypair,
    Any,
}

/// What a fault rule does when it fires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum FaultEffect {
    /// The server's sub-job fails with this code; the server returns to where it was.
    SubJobFail { code: String, message: Option<String> },
    /// The per-server check fails: the batch answers `internalError` (or a failed sub-job).
    PrecheckFail { code: String, message: Option<String> },
    /// The whole request fails with this HTTP status (400 to 599) and code.
    HttpError {
        #[schema(minimum = 400, maximum = 599)]
        status: u16,
        code: String,
        message: Option<String>,
    },
    /// The request is answered this many milliseconds later (at most 600000).
    Delay {
        #[schema(maximum = 600000)]
        ms: u64,
    },
    /// The sub-job stays RUNNING until the rule is released or deleted.
    Hang,
}

/// A rule as a user writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    pub operation: FaultOperation,
    pub server_id: Option<String>,
    /// Substring of the server name; `.` matches any character (like the list filter).
    pub name_pattern: Option<String>,
    /// A tag key, or `key=value`.
    pub tag: Option<String>,
    pub project_id: Option<String>,
    /// Chance in [0, 1] that a matching occasion fires; always when absent.
    #[schema(minimum = 0, maximum = 1)]
    pub probability: Option<f64>,
    /// Fire for the next `count` matching occasions, then stop; forever when absent.
    pub count: Option<u64>,
    /// Seed of the probability draws, so a run can be repeated exactly.
    #[serde(default)]
    pub seed: u64,
    pub effect: FaultEffect,
}

/// A stored fault rule: the spec's fields plus its id and counters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FaultRule {
    pub id: String,
    #[serde(flatten)]
    #[schema(schema_with = spec_within_rule)]
    pub spec: FaultSpec,
    /// How often the rule fired.
    pub fired: u64,
    /// How many matching occasions were drawn for, fired or not.
    pub evaluations: u64,
}

/// The spec's schema as a part of a rule: without its refusal of other properties, which
/// would refuse the rule's own `id` and counters beside it.
fn spec_within_rule() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::Schema;
    let mut schema = <FaultSpec as utoipa::PartialSchema>::schema();
    if let utoipa::openapi::RefOr::T(Schema::Object(object)) = &mut schema {
        object.additional_properties = None;
    }
    schema
}

/// Where in the life of a request a rule is looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Before anything else: `http_error` and `delay`.
    Request,
    /// While each server is checked: `precheck_fail`.
    Precheck,
    /// When the engine first moves a sub-job: `hang`.
    JobStart,
    /// When a sub-job would succeed: `sub_job_fail`.
    JobEnd,
}

impl FaultEffect {
    fn stage(&self) -> Stage {
        match self {
            FaultEffect::HttpError { .. } | FaultEffect::Delay { .. } => Stage::Request,
            FaultEffect::PrecheckFail { .. } => Stage::Precheck,
            FaultEffect::Hang => Stage::JobStart,
            FaultEffect::SubJobFail { .. } => Stage::JobEnd,
        }
    }
}

impl FaultSpec {
    pub fn validate(&self) -> Result<()> {
        if let Some(p) = self.probability
            && !(0.0..=1.0).contains(&p)
        {
            return Err(Error::invalid("probability must be between 0 and 1."));
        }
        let code_ok = |code: &str| !code.is_empty() && code.len() <= 64;
        match &self.effect {
            FaultEffect::HttpError { status, code, .. } if !(400..=599).contains(status) || !code_ok(code) => {
                Err(Error::invalid("http_error needs a status from 400 to 599 and a code."))
            }
            FaultEffect::SubJobFail { code, .. } | FaultEffect::PrecheckFail { code, .. } if !code_ok(code) => {
                Err(Error::invalid("The effect needs a code such as Ecs.0226."))
            }
            FaultEffect::Delay { ms } if *ms > 600_000 => Err(Error::invalid("delay ms must be at most 600000.")),
            _ => Ok(()),
        }
    }
}

impl FaultRule {
    /// Whether the rule applies to this occasion (before count and probability).
    pub fn matches(&self, stage: Stage, operation: FaultOperation, project_id: &str, server: Option<&Server>) -> bool {
        let spec = &self.spec;
        let server_filters = spec.server_id.is_some() || spec.name_pattern.is_some() || spec.tag.is_some();
        spec.effect.stage() == stage
            && (spec.operation == FaultOperation::Any || spec.operation == operation)
            && spec.project_id.as_deref().is_none_or(|p| p == project_id)
            && match server {
                Some(server) => {
                    spec.server_id.as_deref().is_none_or(|id| id == server.id)
                        && spec.name_pattern.as_deref().is_none_or(|p| fuzzy_contains(&server.name, p))
                        && spec.tag.as_deref().is_none_or(|t| server.has_tag(t))
                }
                // An occasion without a server (a whole request) matches only rules that name none.
                None => !server_filters,
            }
    }

    /// Draws for one matching occasion: whether the rule fires. Deterministic for a seed.
    pub fn draw(&mut self) -> bool {
        if self.spec.count.is_some_and(|count| self.fired >= count) {
            return false;
        }
        let fires = match self.spec.probability {
            None => true,
            Some(p) => {
                let mut rng = rand::rngs::StdRng::seed_from_u64(
                    self.spec.seed ^ self.evaluations.wrapping_mul(0x9E37_79B9_7F4A_7C15),
                );
                rng.random::<f64>() < p
            }
        };
        self.evaluations += 1;
        if fires {
            self.fired += 1;
        }
        fires
    }
}

impl From<super::status::OperationKind> for FaultOperation {
    fn from(kind: super::status::OperationKind) -> Self {
        use super::status::OperationKind as K;
        match kind {
            K::Create => FaultOperation::Create,
            K::Start => FaultOperation::Start,
            K::Stop => FaultOperation::Stop,
            K::Reboot => FaultOperation::Reboot,
            K::Resize | K::ConfirmResize | K::RevertResize => FaultOperation::Resize,
            K::Delete => FaultOperation::Delete,
            K::Reinstall => FaultOperation::Reinstall,
            K::ChangeOs => FaultOperation::ChangeOs,
            K::Migrate => FaultOperation::Migrate,
            K::Redeploy => FaultOperation::Redeploy,
            K::Restore => FaultOperation::RecycleBin,
            K::AttachVolume => FaultOperation::AttachVolume,
            K::DetachVolume => FaultOperation::DetachVolume,
            K::CreateVolume => FaultOperation::CreateVolume,
            K::ExtendVolume => FaultOperation::ResizeVolume,
            K::DeleteVolume => FaultOperation::DeleteVolume,
            K::AddNics | K::DeleteNics | K::ChangeVpc => FaultOperation::Nics,
        }
    }
}

impl From<super::status::InstantOperation> for FaultOperation {
    fn from(operation: super::status::InstantOperation) -> Self {
        use super::status::InstantOperation as I;
        match operation {
            I::ResetPassword => FaultOperation::ResetPassword,
            I::Rename => FaultOperation::Rename,
            I::AutoTerminate => FaultOperation::AutoTerminate,
            I::SerialConsole => FaultOperation::Console,
            I::RegisterMonitor => FaultOperation::RegisterMonitor,
            I::ChangeChargeMode => FaultOperation::ChangeChargeMode,
            I::TriggerCrashDump => FaultOperation::CrashDump,
            I::UpdateMetadata => FaultOperation::Metadata,
            I::JoinGroup => FaultOperation::ServerGroup,
            I::UpdateBlockDevice => FaultOperation::UpdateBlockDevice,
            I::UpdateInterface | I::ChangeNetworkInterface => FaultOperation::Nics,
        }
    }
}

/// The rules as loaded in one transaction, with what they fired; `changed` lists the rules
/// whose counters moved, for the caller to store.
pub struct LoadedRules {
    pub rules: Vec<FaultRule>,
    drawn: Vec<bool>,
    /// What fired, for the audit trail.
    fired: Vec<crate::domain::events::Fired>,
}

impl LoadedRules {
    pub fn new(rules: Vec<FaultRule>) -> Self {
        let drawn = vec![false; rules.len()];
        LoadedRules { rules, drawn, fired: Vec::new() }
    }

    /// The effect of the first rule that matches and fires for this occasion.
    pub fn fire(
        &mut self,
        stage: Stage,
        operation: FaultOperation,
        project_id: &str,
        server: Option<&Server>,
    ) -> Option<(String, FaultEffect)> {
        let drawn = &mut self.drawn;
        let index = self.rules.iter_mut().enumerate().position(|(i, rule)| {
            if !rule.matches(stage, operation, project_id, server) {
                return false;
            }
            drawn[i] = true;
            rule.draw()
        })?;
        let rule = &self.rules[index];
        tracing::info!(
            rule_id = %rule.id,
            effect = rule.spec.effect.kind(),
            operation = wire_name(&operation),
            project_id,
            server_id = server.map(|s| s.id.as_str()),
            "fault rule fired"
        );
        self.fired.push(crate::domain::events::Fired {
            rule_id: rule.id.clone(),
            effect: rule.spec.effect.clone(),
            operation: wire_name(&operation),
            project_id: project_id.to_string(),
            server_id: server.map(|s| s.id.clone()),
        });
        Some((rule.id.clone(), rule.spec.effect.clone()))
    }

    /// What fired since the rules were loaded, oldest first.
    pub fn fired(&self) -> &[crate::domain::events::Fired] {
        &self.fired
    }

    pub fn changed(&self) -> impl Iterator<Item = &FaultRule> {
        self.rules.iter().zip(&self.drawn).filter(|(_, drawn)| **drawn).map(|(rule, _)| rule)
    }
}

/// A value's name on the wire (`reset-password`, `sub_job_fail`), for log lines.
pub fn wire_name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        _ => String::new(),
    }
}

impl FaultEffect {
    /// The effect's `kind`, as a rule names it.
    pub fn kind(&self) -> &'static str {
        match self {
            FaultEffect::SubJobFail { .. } => "sub_job_fail",
            FaultEffect::PrecheckFail { .. } => "precheck_fail",
            FaultEffect::HttpError { .. } => "http_error",
            FaultEffect::Delay { .. } => "delay",
            FaultEffect::Hang => "hang",
        }
    }

    /// The code and message of an effect that fails something.
    pub fn failure(&self) -> Option<(&str, String)> {
        let text = |message: &Option<String>| message.clone().unwrap_or_else(|| "injected fault".to_string());
        match self {
            FaultEffect::SubJobFail { code, message } | FaultEffect::PrecheckFail { code, message } => {
                Some((code, text(message)))
            }
            FaultEffect::HttpError { code, message, .. } => Some((code, text(message))),
            FaultEffect::Delay { .. } | FaultEffect::Hang => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(spec: FaultSpec) -> FaultRule {
        FaultRule { id: "r".into(), spec, fired: 0, evaluations: 0 }
    }

    fn spec(effect: FaultEffect) -> FaultSpec {
        FaultSpec {
            operation: FaultOperation::Stop,
            server_id: None,
            name_pattern: None,
            tag: None,
            project_id: None,
            probability: None,
            count: None,
            seed: 0,
            effect,
        }
    }

    #[test]
    fn a_counted_rule_fires_that_many_times() {
        let mut r = rule(FaultSpec { count: Some(2), ..spec(FaultEffect::Hang) });
        assert_eq!([r.draw(), r.draw(), r.draw()], [true, true, false]);
        assert_eq!(r.fired, 2);
    }

    #[test]
    fn probability_draws_repeat_for_a_seed() {
        let draws = |seed| {
            let mut r = rule(FaultSpec { probability: Some(0.5), seed, ..spec(FaultEffect::Hang) });
            (0..64).map(|_| r.draw()).collect::<Vec<_>>()
        };
        assert_eq!(draws(7), draws(7));
        assert_ne!(draws(7), draws(8));
        let fired = draws(7).into_iter().filter(|f| *f).count();
        assert!((16..=48).contains(&fired), "about half fire: {fired}");
    }

    #[test]
    fn rules_match_their_stage_and_operation() {
        let r = rule(spec(FaultEffect::Delay { ms: 5 }));
        assert!(r.matches(Stage::Request, FaultOperation::Stop, "p", None));
        assert!(!r.matches(Stage::Request, FaultOperation::Start, "p", None));
        assert!(!r.matches(Stage::JobEnd, FaultOperation::Stop, "p", None));
        let any = rule(FaultSpec { operation: FaultOperation::Any, ..spec(FaultEffect::Hang) });
        assert!(any.matches(Stage::JobStart, FaultOperation::Reboot, "p", None));
    }

    #[test]
    fn bad_specs_are_refused() {
        assert!(FaultSpec { probability: Some(1.5), ..spec(FaultEffect::Hang) }.validate().is_err());
        let bad_status = FaultEffect::HttpError { status: 200, code: "Common.1503".into(), message: None };
        assert!(spec(bad_status).validate().is_err());
    }
}
