//! The figures: rows with their targets, printed as one Markdown table.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;

use crate::load::Load;

/// Which way is better for a figure.
#[derive(Clone, Copy, PartialEq)]
pub enum Better {
    Lower,
    Higher,
}

/// A target of the issue: `value ≤ limit` (Lower) or `value ≥ limit` (Higher).
#[derive(Clone, Copy)]
pub struct Target {
    pub limit: f64,
}

pub struct Row {
    pub id: String,
    pub label: String,
    unit: &'static str,
    better: Better,
    pub value: Option<f64>,
    pub target: Option<Target>,
    /// A target relative to another row: within 20 % of it.
    relative_to: Option<String>,
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
        self.rows.push(Row {
            id: id.into(),
            label: label.into(),
            unit,
            better,
            value,
            target: None,
            relative_to: None,
        });
    }

    pub fn ms(&mut self, id: impl Into<String>, label: impl Into<String>, elapsed: Duration) {
        self.add(id, label, "ms", Better::Lower, elapsed.as_secs_f64() * 1000.0);
    }

    pub fn target(&mut self, limit: f64) {
        if let Some(row) = self.rows.last_mut() {
            row.target = Some(Target { limit });
        }
    }

    /// The rows of `size` that the issue wants within 20 % of the same at 10,000 servers.
    pub fn relative_to_10000(&mut self, size: usize) {
        for row in &mut self.rows {
            for kind in ["show", "list", "list_deep"] {
                if let Some(metric) = row.id.strip_prefix(&format!("{kind}_{size}_")) {
                    row.relative_to = Some(format!("{kind}_10000_{metric}"));
                }
            }
        }
    }

    fn value(&self, id: &str) -> Option<f64> {
        self.rows.iter().find(|r| r.id == id).and_then(|r| r.value)
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

/// The status of a row against its target: `met`, `not met` or empty.
fn verdict(report: &Report, row: &Row) -> (String, String) {
    let Some(value) = row.value else { return (String::new(), String::new()) };
    if let Some(target) = row.target {
        let (text, met) = match row.better {
            Better::Lower => (format!("≤ {}", format_value(target.limit, row.unit)), value <= target.limit),
            Better::Higher => (format!("≥ {}", format_value(target.limit, row.unit)), value >= target.limit),
        };
        return (text, if met { "met".into() } else { "not met".into() });
    }
    if let Some(base) = row.relative_to.as_deref().and_then(|id| report.value(id)) {
        let limit = match row.better {
            Better::Lower => base * 1.2,
            Better::Higher => base / 1.2,
        };
        let met = match row.better {
            Better::Lower => value <= limit,
            Better::Higher => value >= limit,
        };
        return (
            format!("within 20 % of 10k ({})", format_value(base, row.unit)),
            if met { "met".into() } else { "not met".into() },
        );
    }
    (String::new(), String::new())
}

pub fn print_table(report: &Report, moto: Option<&HashMap<String, Value>>, moto_notes: &HashMap<String, String>) {
    let mut lines = Vec::new();
    if moto.is_some() {
        lines.push("| Measure | ecsd | moto | ecsd/moto | Target | Met |".to_string());
        lines.push("|---|---:|---:|---:|---|---|".to_string());
    } else {
        lines.push("| Measure | ecsd | Target | Met |".to_string());
        lines.push("|---|---:|---|---|".to_string());
    }
    for row in &report.rows {
        let ecsd = row.value.map_or("n/a".to_string(), |v| format_value(v, row.unit));
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
                lines.push(format!("| {} | {ecsd} | {moto_text} | {ratio} | {target} | {met} |", row.label));
            }
            None => lines.push(format!("| {} | {ecsd} | {target} | {met} |", row.label)),
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
