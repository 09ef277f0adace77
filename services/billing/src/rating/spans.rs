//! Usage intervals cut to the rated period, and the shapes the charge patterns read from them:
//! runs (one start-and-termination each) and plans in order of first appearance.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::RatingError;
use super::menu::{Menu, PlanPrice};
use super::month::Period;
use super::usage::Resource;

/// A usage interval cut to the rated period.
#[derive(Debug, Clone)]
pub(super) struct Span {
    pub(super) start: DateTime<Utc>,
    pub(super) end: DateTime<Utc>,
    pub(super) plan: String,
    pub(super) status: Option<String>,
    pub(super) qty: Decimal,
}

impl Span {
    pub(super) fn seconds(&self) -> i64 {
        (self.end - self.start).num_seconds()
    }
}

pub(super) fn plan_of<'m>(menu: &'m Menu, plan: &str) -> Result<&'m PlanPrice, RatingError> {
    menu.plan(plan).ok_or_else(|| RatingError::UnknownPlan {
        menu: menu.info.code.clone(),
        plan: plan.to_owned(),
    })
}

pub(super) fn cap_of(menu: &Menu, plan: &PlanPrice) -> Result<Decimal, RatingError> {
    plan.cap.ok_or_else(|| RatingError::MissingCap {
        menu: menu.info.code.clone(),
        plan: plan.plan.clone(),
    })
}

/// Cuts the intervals to the period; drops empty ones. Volume usage is kept when reported
/// (its start) inside the period.
pub(super) fn clip(resource: &Resource, period: &Period) -> Vec<Span> {
    let mut spans: Vec<Span> = resource
        .intervals
        .iter()
        .filter_map(|i| {
            let end = i.end.unwrap_or(period.end()).min(period.end());
            let start = i.start.max(period.start());
            let volume_report = i.start >= period.start() && i.start < period.end();
            (end > start || (volume_report && i.end.is_none_or(|e| e == i.start))).then(|| Span {
                start,
                end: end.max(start),
                plan: i.plan.clone(),
                status: i.status.clone(),
                qty: i.quantity,
            })
        })
        .collect();
    spans.sort_by_key(|s| s.start);
    spans
}

/// Maximal runs of contiguous or overlapping spans: each run is one start-and-termination.
pub(super) fn runs(spans: &[Span]) -> Vec<Vec<&Span>> {
    let mut sorted: Vec<&Span> = spans.iter().collect();
    sorted.sort_by_key(|s| s.start);
    let mut out: Vec<Vec<&Span>> = Vec::new();
    let mut run_end: Option<DateTime<Utc>> = None;
    for s in sorted {
        match run_end {
            Some(e) if s.start <= e => {
                out.last_mut().expect("open run").push(s);
                run_end = Some(e.max(s.end));
            }
            _ => {
                out.push(vec![s]);
                run_end = Some(s.end);
            }
        }
    }
    out
}

/// Plans in order of first appearance.
pub(super) fn plans_in_order(spans: &[Span]) -> Vec<&str> {
    let mut plans: Vec<&str> = Vec::new();
    for s in spans {
        if !plans.contains(&s.plan.as_str()) {
            plans.push(&s.plan);
        }
    }
    plans
}
