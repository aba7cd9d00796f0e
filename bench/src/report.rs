//! The figures: rows with their targets, printed as one Markdown table.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;

use crate::floor::WrkRun;
use crate::load::Load;

/// Which way is better for a figure.
#[derive(Clone, Copy, PartialEq)]
pub enum Better {
    Lower,
    Higher,
}

/// A target of the issues (6 and 17), in the direction of the row's `Better`.
#[derive(Clone)]
pub enum Target {
    /// `value ≤ limit` (Lower) or `value ≥ limit` (Higher).
    Absolute(f64),
    /// The value as a multiple of its floor row (see [`Report::floor`]): `value / floor ≤ x`
    /// (Lower) or `≥ x` (Higher).
    OfFloor(f64),
    /// Within `tolerance` (0.2 = 20 %) of the same figure at 10,000 servers (row `base`).
    Near { base: String, tolerance: f64 },
}

pub struct Row {
    pub id: String,
    pub label: String,
    unit: &'static str,
    better: Better,
    pub value: Option<f64>,
    pub target: Option<Target>,
    /// The row of the machine's own ceiling for the same work (a bare axum server, a bare
    /// SQLite transaction), measured in the same run: the table prints the ratio to it.
    pub floor: Option<String>,
}

#[derive(Default)]
pub struct Report {
    pub rows: Vec<Row>,
    pub notes: Vec<String>,
}

impl Report {
    pub fn add(
        &mut self,
        id: impl Into<String>,
        label: impl Into<String>,
        unit: &'static str,
        better: Better,
        value: f64,
    ) {
        let value = value.is_finite().then_some(value);
        self.rows.push(Row { id: id.into(), label: label.into(), unit, better, value, target: None, floor: None });
    }

    pub fn ms(&mut self, id: impl Into<String>, label: impl Into<String>, elapsed: Duration) {
        self.add(id, label, "ms", Better::Lower, elapsed.as_secs_f64() * 1000.0);
    }

    /// An absolute target for the last row added.
    pub fn target(&mut self, limit: f64) {
        self.set_target(Target::Absolute(limit));
    }

    pub fn set_target(&mut self, target: Target) {
        if let Some(row) = self.rows.last_mut() {
            row.target = Some(target);
        }
    }

    /// Gives the row `id` a target, if the row exists.
    pub fn target_of(&mut self, id: &str, target: Target) {
        if let Some(row) = self.rows.iter_mut().find(|r| r.id == id) {
            row.target = Some(target);
        }
    }

    /// Names `floor` as the floor of the row `id`.
    pub fn floor(&mut self, id: &str, floor: &str) {
        if let Some(row) = self.rows.iter_mut().find(|r| r.id == id) {
            row.floor = Some(floor.to_string());
        }
    }

    /// The rows of `size` that have a target relative to the same figure at 10,000 servers:
    /// show within 10 % (issue 17), list page 1 within 20 %. Deep pages have an absolute
    /// target instead (`list_deep_1000000_p50_ms` ≤ 20 ms).
    pub fn relative_to_10000(&mut self, size: usize) {
        for row in &mut self.rows {
            for (kind, tolerance) in [("show", 0.1), ("list", 0.2)] {
                if let Some(metric) = row.id.strip_prefix(&format!("{kind}_{size}_")) {
                    row.target = Some(Target::Near { base: format!("{kind}_10000_{metric}"), tolerance });
                }
            }
        }
    }

    fn value(&self, id: &str) -> Option<f64> {
        self.rows.iter().find(|r| r.id == id).and_then(|r| r.value)
    }

    pub fn add_wrk(&mut self, id: &str, label: &str, run: &WrkRun) {
        self.add(format!("{id}_rps"), format!("{label}: requests/s"), "req/s", Better::Higher, run.rps);
        self.add(format!("{id}_p50_ms"), format!("{label}: p50"), "ms", Better::Lower, run.p50_ms);
        self.add(format!("{id}_p99_ms"), format!("{label}: p99"), "ms", Better::Lower, run.p99_ms);
        if run.errors > 0 {
            self.notes.push(format!("{label}: {} requests failed", run.errors));
        }
    }

    pub fn load(&mut self, id: &str, label: &str, load: Load) {
        self.add(format!("{id}_rps"), format!("{label}: requests/s"), "req/s", Better::Higher, load.rps());
        self.add(format!("{id}_p50_ms"), format!("{label}: p50"), "ms", Better::Lower, load.p50_ms);
        self.add(format!("{id}_p99_ms"), format!("{label}: p99"), "ms", Better::Lower, load.p99_ms);
        if load.errors > 0 {
            self.notes.push(format!("{label}: {} requests failed", load.errors));
        }
    }
}

pub fn format_value(value: f64, unit: &str) -> String {
    let number = if value >= 1000.0 {
        let whole = value.round() as u64;
        let digits = whole.to_string();
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(c);
        }
        grouped
    } else if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    };
    format!("{number} {unit}")
}

/// The ratio of a row to its floor, when it has one: a percentage for rates (what share of the
/// ceiling ecsd reaches), a multiple for times and sizes.
fn of_floor(report: &Report, row: &Row) -> Option<f64> {
    let floor = report.value(row.floor.as_deref()?)?;
    let value = row.value?;
    (floor > 0.0).then(|| value / floor)
}

fn ratio_text(row: &Row, ratio: f64) -> String {
    match row.better {
        Better::Higher => format!("{:.0} %", ratio * 100.0),
        Better::Lower if ratio >= 10.0 => format!("{ratio:.0} ×"),
        Better::Lower => format!("{ratio:.2} ×"),
    }
}

/// The status of a row against its target: `met`, `not met` or empty.
fn verdict(report: &Report, row: &Row) -> (String, String) {
    let Some(value) = row.value else { return (String::new(), String::new()) };
    let met = |met: bool| if met { "met".to_string() } else { "not met".to_string() };
    let within = |limit: f64| match row.better {
        Better::Lower => value <= limit,
        Better::Higher => value >= limit,
    };
    let sign = match row.better {
        Better::Lower => "≤",
        Better::Higher => "≥",
    };
    match &row.target {
        None => (String::new(), String::new()),
        Some(Target::Absolute(limit)) => (format!("{sign} {}", format_value(*limit, row.unit)), met(within(*limit))),
        Some(Target::OfFloor(factor)) => {
            let text = format!("{sign} {} of the floor", ratio_text(row, *factor));
            match of_floor(report, row) {
                Some(ratio) => (
                    text,
                    met(match row.better {
                        Better::Lower => ratio <= *factor,
                        Better::Higher => ratio >= *factor,
                    }),
                ),
                None => (text, String::new()),
            }
        }
        Some(Target::Near { base, tolerance }) => match report.value(base) {
            Some(base) => {
                let limit = match row.better {
                    Better::Lower => base * (1.0 + tolerance),
                    Better::Higher => base * (1.0 - tolerance),
                };
                (
                    format!("within {:.0} % of 10k ({})", tolerance * 100.0, format_value(base, row.unit)),
                    met(within(limit)),
                )
            }
            None => (String::new(), String::new()),
        },
    }
}

pub fn print_table(report: &Report, moto: Option<&HashMap<String, Value>>, moto_notes: &HashMap<String, String>) {
    let mut lines = Vec::new();
    if moto.is_some() {
        lines.push("| Measure | ecsd | of floor | moto | ecsd/moto | Target | Met |".to_string());
        lines.push("|---|---:|---:|---:|---:|---|---|".to_string());
    } else {
        lines.push("| Measure | ecsd | of floor | Target | Met |".to_string());
        lines.push("|---|---:|---:|---|---|".to_string());
    }
    for row in &report.rows {
        let ecsd = row.value.map_or("n/a".to_string(), |v| format_value(v, row.unit));
        let floor = of_floor(report, row).map_or(String::new(), |ratio| ratio_text(row, ratio));
        let (target, met) = verdict(report, row);
        match moto {
            Some(moto) => {
                let moto_value = moto.get(&row.id).and_then(Value::as_f64);
                let moto_text = match (moto_value, moto_notes.get(&row.id)) {
                    (Some(v), Some(note)) => format!("{} ({note})", format_value(v, row.unit)),
                    (Some(v), None) => format_value(v, row.unit),
                    (None, Some(note)) => note.clone(),
                    (None, None) => "—".to_string(),
                };
                let ratio = match (row.value, moto_value) {
                    (Some(e), Some(m)) if m > 0.0 => {
                        let ratio = e / m;
                        if ratio >= 100.0 {
                            format!("{ratio:.0}")
                        } else if ratio >= 0.1 {
                            format!("{ratio:.2}")
                        } else {
                            format!("{ratio:.4}")
                        }
                    }
                    _ => "—".to_string(),
                };
                lines.push(format!("| {} | {ecsd} | {floor} | {moto_text} | {ratio} | {target} | {met} |", row.label));
            }
            None => lines.push(format!("| {} | {ecsd} | {floor} | {target} | {met} |", row.label)),
        }
    }
    println!("{}", lines.join("\n"));
    if moto.is_some() {
        println!(
            "\necsd/moto: below 1 means ecsd takes less time or memory; above 1 on req/s rows means ecsd serves more."
        );
    }
    for note in &report.notes {
        println!("- {note}");
    }
}

pub fn count_label(n: usize) -> String {
    format!("{} servers", format_value(n as f64, "").trim_end())
}
