//! Which rule prices a line: the most specific (child + menu > child + category > child > all +
//! menu > all + category > all), then a plan's FIXED price over a percentage, then the latest.

use super::PriceRule;
use crate::rating::MenuInfo;

/// The rule that prices a plan of a menu for a child (`plan: None`: the menu's plan-less parts,
/// such as a special rule's flat fee), among rules already in force.
pub fn resolve<'a>(
    rules: &[&'a PriceRule],
    child_id: &str,
    menu: &MenuInfo,
    plan: Option<&str>,
) -> Option<&'a PriceRule> {
    rules
        .iter()
        .copied()
        .filter(|r| r.applies(child_id, menu, plan))
        .max_by(|a, b| a.precedence().cmp(&b.precedence()))
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;

    #[test]
    fn the_most_specific_rule_wins() {
        let cat = || RuleScope::Category("Virtual Server".into());
        let one = || RuleScope::Menu("vs".into());
        let mut rules = vec![
            rule("all", None, RuleScope::All, markup("1")),
            rule("all+cat", None, cat(), markup("2")),
            rule("all+menu", None, one(), markup("3")),
            rule("child", Some("c1"), RuleScope::All, markup("4")),
            rule("child+cat", Some("c1"), cat(), markup("5")),
            rule("child+menu", Some("c1"), one(), markup("6")),
        ];
        // remove the winner each time: the next one in SPEC §6's order takes over
        for expected in [
            "child+menu",
            "child+cat",
            "child",
            "all+menu",
            "all+cat",
            "all",
        ] {
            assert_eq!(
                winner(&rules, "c1", Some("small")).as_deref(),
                Some(expected)
            );
            rules.retain(|r| r.id != expected);
        }
        assert_eq!(winner(&rules, "c1", Some("small")), None);
    }

    #[test]
    fn a_child_rule_does_not_price_another_child_and_other_categories_are_untouched() {
        let rules = vec![
            rule("c1", Some("c1"), RuleScope::All, markup("10")),
            rule(
                "net",
                None,
                RuleScope::Category("Network".into()),
                markup("5"),
            ),
        ];
        assert_eq!(winner(&rules, "c2", Some("small")), None);
        assert_eq!(winner(&rules, "c1", Some("small")).as_deref(), Some("c1"));
    }

    #[test]
    fn a_fixed_plan_price_beats_a_percentage_at_the_same_level_for_its_plan_only() {
        let one = || RuleScope::Menu("vs".into());
        let rules = vec![
            rule("pct", None, one(), markup("20")),
            rule(
                "fix",
                None,
                one(),
                Pricing::Fixed {
                    plan: "large".into(),
                    unit_price: d("3"),
                    cap: None,
                },
            ),
        ];
        assert_eq!(winner(&rules, "c", Some("large")).as_deref(), Some("fix"));
        assert_eq!(winner(&rules, "c", Some("small")).as_deref(), Some("pct"));
        assert_eq!(winner(&rules, "c", None).as_deref(), Some("pct"));
    }
}
