//! Billing and life: charge mode, scheduled deletion, monitoring, kernel dump.

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

/// A field that must be present but may be null: absent is `None`, null `Some(None)`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ChangeServerChargeModeRequest {
    /// The servers to convert: 1 to 100 distinct ids.
    #[schema(min_items = 1, max_items = 100)]
    pub server_ids: Vec<String>,
    pub charge_mode: ChargeMode,
    pub prepaid_options: PrepaidOptions,
    /// Check only; nothing is ordered.
    #[serde(default)]
    pub dry_run: bool,
}

/// The billing mode to change to: only `prePaid` (yearly/monthly).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
pub enum ChargeMode {
    #[serde(rename = "prePaid")]
    PrePaid,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PrepaidOptions {
    pub include_data_disks: Option<bool>,
    pub include_publicips: Option<bool>,
    pub period_type: PeriodType,
    /// Months 1 to 9, or years 1 to 3 (a string, as the SDK sends it, or a number).
    pub period_num: PeriodNum,
    pub auto_pay: Option<bool>,
    pub auto_renew: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PeriodType {
    Month,
    Year,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum PeriodNum {
    Number(u64),
    Text(String),
}

impl PrepaidOptions {
    /// Checks the period: 1 to 9 months or 1 to 3 years.
    pub fn check(&self) -> Result<(), crate::domain::Error> {
        let number = match &self.period_num {
            PeriodNum::Number(n) => Some(*n),
            PeriodNum::Text(text) => text.parse().ok(),
        };
        let most = match self.period_type {
            PeriodType::Month => 9,
            PeriodType::Year => 3,
        };
        match number {
            Some(n) if (1..=most).contains(&n) => Ok(()),
            _ => Err(crate::domain::Error::invalid(format!(
                "period_num must be from 1 to {most} for period_type {}.",
                if self.period_type == PeriodType::Month { "month" } else { "year" }
            ))),
        }
    }
}

/// The order placed. ecsd bills nothing: the order is never paid, so there is no `job_id`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeServerChargeModeResponse {
    pub order_id: String,
}

/// `{"auto_terminate_time": "2024-06-01T12:00:00Z"}`; an empty string or null cancels.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateServerAutoTerminateTimeRequest {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub auto_terminate_time: Option<Option<String>>,
}

/// `{"monitorMetrics": ""}`: the key is required, its value is not used.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RegisterServerMonitorRequest {
    #[serde(rename = "monitorMetrics", default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub monitor_metrics: Option<Option<String>>,
}

/// `{}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct EmptyObject {}
