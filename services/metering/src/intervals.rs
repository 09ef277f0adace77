//! Usage events of a resource → its usage intervals. Events may arrive in any order: intervals are
//! derived from the stored events sorted by time (then id), so arrival order never matters.

use chrono::{DateTime, Utc};
use ecl_proto::metering::{IntervalView, ResourceUsage, UsageKind};

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

/// Every resource's intervals that touch `[from, to)`. A `Start` or `Change` ends the open interval
/// at the same instant and opens the next (a `Change` keeps the fields it leaves empty); a `Stop`
/// ends it; a `Change` or `Stop` with nothing open is ignored (its `Start` may still arrive).
pub fn derive(mut events: Vec<Ev>, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<ResourceUsage> {
    // A resource is its id within its menu: producers may reuse an id across menus (seed 002's
    // example masks every id alike).
    events.sort_by(|a, b| {
        (&a.resource_id, &a.menu_code, a.at, &a.id).cmp(&(
            &b.resource_id,
            &b.menu_code,
            b.at,
            &b.id,
        ))
    });
    let mut out = Vec::new();
    let mut i = 0;
    while i < events.len() {
        let rid = events[i].resource_id.clone();
        let menu = events[i].menu_code.clone();
        let mut j = i;
        while j < events.len() && events[j].resource_id == rid && events[j].menu_code == menu {
            j += 1;
        }
        let evs = &events[i..j];
        i = j;
        let mut res = ResourceUsage {
            resource_id: rid,
            name: None,
            menu_code: evs[0].menu_code.clone(),
            created_at: evs
                .iter()
                .find(|e| e.kind == UsageKind::Start)
                .map(|e| e.at),
            intervals: Vec::new(),
        };
        let mut open: Option<IntervalView> = None;
        let mut last: Option<IntervalView> = None;
        for e in evs {
            if e.name.is_some() {
                res.name = e.name.clone();
            }
            match e.kind {
                UsageKind::Start | UsageKind::Change => {
                    let prev = open.take();
                    if e.kind == UsageKind::Change && prev.is_none() {
                        continue;
                    }
                    let base = prev.clone().or_else(|| last.clone());
                    if let Some(mut p) = prev {
                        p.end = Some(e.at);
                        res.intervals.push(p);
                    }
                    let plan = e
                        .plan
                        .clone()
                        .or_else(|| base.as_ref().map(|b| b.plan.clone()));
                    let Some(plan) = plan else { continue };
                    let inherit = e.kind == UsageKind::Change;
                    open = Some(IntervalView {
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
                    if let Some(mut p) = open.take() {
                        p.end = Some(e.at);
                        last = Some(p.clone());
                        res.intervals.push(p);
                    }
                }
            }
        }
        if let Some(p) = open {
            res.intervals.push(p);
        }
        res.intervals
            .retain(|iv| iv.start < to && iv.end.is_none_or(|e| e > from));
        if !res.intervals.is_empty() {
            out.push(res);
        }
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
}
