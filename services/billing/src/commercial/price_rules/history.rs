//! A rule's history: a new rule supersedes the older one of the same key from its first month,
//! so a past month resolves exactly as it did then; the rules in force in a month.

use super::PriceRule;
use crate::rating::Month;

/// What storing `new` does to the rules already there with the same key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Supersede {
    /// The old rule stays for its past months and ends the month before the new one starts.
    End { id: String, last_month: Month },
    /// The old rule had not begun yet when the new one starts: it would never price a month.
    Drop { id: String },
}

/// Keeps history: rules that already priced a month are ended, never changed or removed.
pub fn supersede(existing: &[PriceRule], new: &PriceRule) -> Vec<Supersede> {
    existing
        .iter()
        .filter(|old| old.id != new.id && old.same_key(new))
        .filter(|old| old.last_month.is_none_or(|l| l >= new.effective_from))
        .map(|old| {
            if old.effective_from >= new.effective_from {
                Supersede::Drop { id: old.id.clone() }
            } else {
                Supersede::End {
                    id: old.id.clone(),
                    last_month: new.effective_from.prev(),
                }
            }
        })
        .collect()
}

/// The rules of `partner_rules` that price `child_id`'s month `m`, for [`resolve`] and [`reprice`].
pub fn in_force<'a>(
    partner_rules: &'a [PriceRule],
    child_id: &str,
    m: Month,
) -> Vec<&'a PriceRule> {
    partner_rules
        .iter()
        .filter(|r| r.in_force(m) && r.child_id.as_deref().is_none_or(|c| c == child_id))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;

    #[test]
    fn history_keeps_each_month_as_it_was() {
        let mut old = rule("old", None, RuleScope::All, markup("10"));
        let mut new = rule("new", None, RuleScope::All, markup("30"));
        new.effective_from = m("2026-04");
        let changes = supersede(std::slice::from_ref(&old), &new);
        assert_eq!(
            changes,
            [Supersede::End {
                id: "old".into(),
                last_month: m("2026-03")
            }]
        );
        old.last_month = Some(m("2026-03"));
        let rules = [old, new];
        let at = |month: &str| {
            let live = in_force(&rules, "c", m(month));
            resolve(&live, "c", &menu().info, None).map(|r| r.id.clone())
        };
        assert_eq!(at("2025-12"), None);
        assert_eq!(at("2026-03").as_deref(), Some("old"));
        assert_eq!(at("2026-04").as_deref(), Some("new"));
    }

    #[test]
    fn a_rule_that_has_not_begun_is_dropped_when_superseded_from_its_first_month() {
        let mut pending = rule("pending", None, RuleScope::All, markup("10"));
        pending.effective_from = m("2026-05");
        let mut new = rule("new", None, RuleScope::All, markup("15"));
        new.effective_from = m("2026-05");
        assert_eq!(
            supersede(&[pending], &new),
            [Supersede::Drop {
                id: "pending".into()
            }]
        );
        // a rule with another key is left alone
        let other = rule("other", Some("c"), RuleScope::All, markup("1"));
        assert!(supersede(&[other], &new).is_empty());
    }
}
