//! Usage events of a resource → its usage intervals. Events may arrive in any order: intervals are
//! derived from the stored events sorted by time (then id), so arrival order never matters. The
//! derivation is a fold over a resource's events ([`Carried`]), so a month can start from the
//! state its resource carried into it.

use chrono::{DateTime, Utc};
use ecl_proto::metering::{IntervalView, ResourceUsage, UsageKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A stored event, as the derivation needs it.
#[derive(Debug, Clone)]
pub struct Ev {
    pub id: String,
    pub resource_id: String,
    pub menu_code: String,
    pub kind: UsageKind,
    pub at: DateTime<Utc>,
    pub plan: Option<String>,
    pub status: Option<String>,
    pub quantity: Option<String>,
    pub name: Option<String>,
}

/// A resource: its id within its menu. Producers may reuse an id across menus (seed 002's
/// example masks every id alike).
pub type Key = (String, String);

/// What a resource's past hands on to the events after an instant: everything the derivation
/// remembers (its name, when it was created, the interval still open and the last one closed,
/// whose plan a plan-less `Start` takes up). Kept at each month start (`month_starts`), so a
/// month is derived from its own events and this, not from the resource's whole history.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Carried {
    pub name: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub open: Option<IntervalView>,
    pub last: Option<IntervalView>,
}

impl Carried {
    /// Applies one event (events of a resource in (time, id) order), pushing the interval it
    /// ends onto `ended`. A `Start` or `Change` ends the open interval at the same instant and
    /// opens the next (a `Change` keeps the fields it leaves empty); a `Stop` ends it; a `Change`
    /// or `Stop` with nothing open is ignored (its `Start` may still arrive).
    pub fn apply(&mut self, e: &Ev, ended: &mut Vec<IntervalView>) {
        if e.name.is_some() {
            self.name = e.name.clone();
        }
        if e.kind == UsageKind::Start && self.created_at.is_none() {
            self.created_at = Some(e.at);
        }
        match e.kind {
            UsageKind::Start | UsageKind::Change => {
                let prev = self.open.take();
                if e.kind == UsageKind::Change && prev.is_none() {
                    return;
                }
                let base = prev.clone().or_else(|| self.last.clone());
                if let Some(mut p) = prev {
                    p.end = Some(e.at);
                    ended.push(p);
                }
                let plan = e
                    .plan
                    .clone()
                    .or_else(|| base.as_ref().map(|b| b.plan.clone()));
                let Some(plan) = plan else { return };
                let inherit = e.kind == UsageKind::Change;
                self.open = Some(IntervalView {
                    start: e.at,
                    end: None,
                    plan,
                    status: e.status.clone().or_else(|| {
                        base.as_ref()
                            .filter(|_| inherit)
                            .and_then(|b| b.status.clone())
                    }),
                    quantity: e
                        .quantity
                        .clone()
                        .or_else(|| {
                            base.as_ref()
                                .filter(|_| inherit)
                                .map(|b| b.quantity.clone())
                        })
                        .unwrap_or_else(|| "1".into()),
                });
            }
            UsageKind::Stop => {
                if let Some(mut p) = self.open.take() {
                    p.end = Some(e.at);
                    self.last = Some(p.clone());
                    ended.push(p);
                }
            }
        }
    }
}

/// Sorts events as the derivation reads them: by resource, then time, then id (so arrival order
/// never matters).
pub fn sort(events: &mut [Ev]) {
    events.sort_by(|a, b| {
        (&a.resource_id, &a.menu_code, a.at, &a.id).cmp(&(
            &b.resource_id,
            &b.menu_code,
            b.at,
            &b.id,
        ))
    });
}

/// Every resource's intervals that touch `[from, to)`, from all of its events.
pub fn derive(events: Vec<Ev>, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<ResourceUsage> {
    derive_from(BTreeMap::new(), events, from, to)
}

/// Every resource's intervals that touch `[from, to)`, from what each resource carried into
/// `from` and its events since (none before `from`).
pub fn derive_from(
    carried: BTreeMap<Key, Carried>,
    mut events: Vec<Ev>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<ResourceUsage> {
    sort(&mut events);
    let mut resources: BTreeMap<Key, (Carried, Vec<Ev>)> = carried
        .into_iter()
        .map(|(k, c)| (k, (c, Vec::new())))
        .collect();
    for e in events {
        resources
            .entry((e.resource_id.clone(), e.menu_code.clone()))
            .or_default()
            .1
            .push(e);
    }
    let mut out = Vec::new();
    for ((resource_id, menu_code), (mut state, evs)) in resources {
        let mut intervals = Vec::new();
        for e in &evs {
            state.apply(e, &mut intervals);
        }
        intervals.extend(state.open);
        intervals.retain(|iv| iv.start < to && iv.end.is_none_or(|e| e > from));
        if !intervals.is_empty() {
            out.push(ResourceUsage {
                resource_id,
                name: state.name,
                menu_code,
                created_at: state.created_at,
                intervals,
            });
        }
    }
    out
}

/// What a resource carries into each of `starts` (ascending instants), from `state` (what it
/// carried into an instant before them all) and its events since, in order.
pub fn carry(mut state: Carried, events: &[Ev], starts: &[DateTime<Utc>]) -> Vec<Carried> {
    let mut out = Vec::with_capacity(starts.len());
    let mut ended = Vec::new();
    let mut next = events.iter().peekable();
    for &start in starts {
        while let Some(e) = next.next_if(|e| e.at < start) {
            state.apply(e, &mut ended);
            ended.clear();
        }
        out.push(state.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2019, 8, d, h, 0, 0).unwrap()
    }

    fn ev(id: &str, kind: UsageKind, at: DateTime<Utc>, plan: Option<&str>) -> Ev {
        Ev {
            id: id.into(),
            resource_id: "r1".into(),
            menu_code: "compute".into(),
            kind,
            at,
            plan: plan.map(Into::into),
            status: None,
            quantity: None,
            name: None,
        }
    }

    #[test]
    fn order_of_arrival_does_not_matter() {
        let evs = vec![
            ev("3", UsageKind::Stop, t(20, 0), None),
            ev("2", UsageKind::Change, t(10, 0), Some("big")),
            ev("1", UsageKind::Start, t(1, 0), Some("small")),
        ];
        let mut rev = evs.clone();
        rev.reverse();
        let a = derive(evs, t(1, 0), t(31, 0));
        let b = derive(rev, t(1, 0), t(31, 0));
        assert_eq!(a, b);
        let iv = &a[0].intervals;
        assert_eq!(iv.len(), 2);
        assert_eq!((iv[0].plan.as_str(), iv[0].end), ("small", Some(t(10, 0))));
        assert_eq!((iv[1].plan.as_str(), iv[1].end), ("big", Some(t(20, 0))));
        assert_eq!(a[0].created_at, Some(t(1, 0)));
    }

    #[test]
    fn stop_then_start_is_a_gap_and_outside_intervals_are_dropped() {
        let evs = vec![
            ev("1", UsageKind::Start, t(1, 0), Some("p")),
            ev("2", UsageKind::Stop, t(2, 0), None),
            ev("3", UsageKind::Start, t(5, 0), None),
        ];
        let a = derive(evs.clone(), t(1, 0), t(31, 0));
        let iv = &a[0].intervals;
        assert_eq!(iv.len(), 2);
        assert_eq!(
            (iv[1].start, iv[1].end, iv[1].plan.as_str()),
            (t(5, 0), None, "p")
        );
        // a window after the first run only sees the second
        assert_eq!(derive(evs, t(3, 0), t(31, 0))[0].intervals.len(), 1);
    }

    /// Deriving a month from what its resources carried into it gives what deriving it from the
    /// whole history gives, wherever the history is cut.
    #[test]
    fn a_month_from_its_carried_state_is_the_month_from_all_history() {
        let evs = vec![
            ev("1", UsageKind::Start, t(1, 0), Some("small")),
            ev("2", UsageKind::Change, t(3, 5), Some("big")),
            ev("3", UsageKind::Stop, t(9, 0), None),
            ev("4", UsageKind::Start, t(12, 0), None),
            ev("5", UsageKind::Change, t(20, 7), None),
            ev("6", UsageKind::Stop, t(25, 0), None),
        ];
        for cut in [
            t(1, 0),
            t(2, 0),
            t(3, 5),
            t(10, 0),
            t(12, 0),
            t(21, 0),
            t(26, 0),
        ] {
            let to = t(28, 0);
            let whole = derive(evs.clone(), cut, to);
            let (before, after): (Vec<Ev>, Vec<Ev>) = evs.iter().cloned().partition(|e| e.at < cut);
            let state = carry(Carried::default(), &before, &[cut]).remove(0);
            let carried = BTreeMap::from([(("r1".to_string(), "compute".to_string()), state)]);
            assert_eq!(derive_from(carried, after, cut, to), whole, "cut at {cut}");
        }
    }
}
