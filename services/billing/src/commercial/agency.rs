//! Agency commissions (seeds 000/001 "Agency Model", SPEC §2).
//!
//! An agency refers end users, who contract directly with the provider; the provider pays the
//! agency a commission on each referred contract's FIXED bill: its total before tax × the rate of
//! the agency's agreement, optionally only for the first N months of a referral. A statement is
//! made at each month close. A later credit or correction of a referred bill already paid on is
//! clawed back (or topped up) on the next statement, so the commissions paid on a bill always add
//! up to what its current total earns.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::rating::{Currency, Month};

/// The operator's agreement with an agency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agreement {
    pub agency_id: String,
    /// Commission, percent of the pre-tax total.
    pub rate_percent: Decimal,
    /// Months of each referral that earn a commission, from the referred contract's first month;
    /// `None`: for as long as the contract lasts.
    pub months_per_referral: Option<u32>,
}

/// A direct contract referred by an agency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Referral {
    pub contract_id: String,
    /// The only thing of the contract the agency sees besides amounts.
    pub contract_name: String,
    pub first_month: Month,
}

impl Referral {
    fn earns(&self, agreement: &Agreement, m: Month) -> bool {
        m >= self.first_month
            && agreement.months_per_referral.is_none_or(|n| {
                let months = (m.year() - self.first_month.year()) * 12 + m.month() as i32
                    - self.first_month.month() as i32;
                months < n as i32
            })
    }
}

/// A referred contract's FIXED bill as it stands now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferredBill {
    pub contract_id: String,
    pub month: Month,
    pub currency: Currency,
    /// Total before tax, after every adjustment and correction so far.
    pub pre_tax: Decimal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CommissionKind {
    /// The commission on a bill fixed this month.
    Commission,
    /// A correction of an earlier month's bill: negative for a credit (clawback).
    Clawback,
}

/// One line of a statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommissionLine {
    pub kind: CommissionKind,
    pub contract_id: String,
    pub contract_name: String,
    /// The referred bill's month.
    pub bill_month: Month,
    pub currency: Currency,
    /// The pre-tax total the line is computed on (for a clawback, the change of that total).
    pub base: Decimal,
    pub commission: Decimal,
}

/// An agency's statement for one closed month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    pub agency_id: String,
    pub month: Month,
    pub rate_percent: Decimal,
    pub lines: Vec<CommissionLine>,
}

impl Statement {
    /// Σ commissions per currency, in order of first appearance.
    pub fn totals(&self) -> Vec<(Currency, Decimal)> {
        let mut out: Vec<(Currency, Decimal)> = Vec::new();
        for l in &self.lines {
            match out.iter_mut().find(|(c, _)| *c == l.currency) {
                Some((_, t)) => *t += l.commission,
                None => out.push((l.currency, l.commission)),
            }
        }
        out
    }
}

/// What an earlier statement paid on a referred bill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paid {
    pub contract_id: String,
    pub bill_month: Month,
    /// The pre-tax total commissioned so far (the sum of the bases of every line about it).
    pub base: Decimal,
}

fn commission_on(base: Decimal, rate: Decimal, currency: Currency) -> Decimal {
    currency.round_down(base * rate / Decimal::ONE_HUNDRED)
}

/// The statement of month `m`: a commission on each referred bill of `m`, and a clawback for each
/// earlier bill whose total changed since a statement paid on it. A clawback is the difference of
/// the two commissions (not the commission on the difference), so rounding never drifts.
pub fn statement(
    m: Month,
    agreement: &Agreement,
    referrals: &[Referral],
    bills: &[ReferredBill],
    paid: &[Paid],
) -> Statement {
    let rate = agreement.rate_percent;
    let mut lines = Vec::new();
    for r in referrals {
        let mut own: Vec<&ReferredBill> = bills
            .iter()
            .filter(|b| b.contract_id == r.contract_id && b.month <= m)
            .collect();
        own.sort_by_key(|b| b.month);
        for b in own {
            let before = paid
                .iter()
                .find(|p| p.contract_id == b.contract_id && p.bill_month == b.month);
            let line = |kind, base, commission| CommissionLine {
                kind,
                contract_id: r.contract_id.clone(),
                contract_name: r.contract_name.clone(),
                bill_month: b.month,
                currency: b.currency,
                base,
                commission,
            };
            match before {
                None if b.month == m && r.earns(agreement, m) => lines.push(line(
                    CommissionKind::Commission,
                    b.pre_tax,
                    commission_on(b.pre_tax, rate, b.currency),
                )),
                Some(p) if p.base != b.pre_tax => lines.push(line(
                    CommissionKind::Clawback,
                    b.pre_tax - p.base,
                    commission_on(b.pre_tax, rate, b.currency)
                        - commission_on(p.base, rate, b.currency),
                )),
                _ => {}
            }
        }
    }
    Statement {
        agency_id: agreement.agency_id.clone(),
        month: m,
        rate_percent: rate,
        lines,
    }
}

/// What a statement pays on, folded into what was paid before (the input of the next one).
pub fn paid_after(paid: &[Paid], s: &Statement) -> Vec<Paid> {
    let mut out = paid.to_vec();
    for l in &s.lines {
        match out
            .iter_mut()
            .find(|p| p.contract_id == l.contract_id && p.bill_month == l.bill_month)
        {
            Some(p) => p.base += l.base,
            None => out.push(Paid {
                contract_id: l.contract_id.clone(),
                bill_month: l.bill_month,
                base: l.base,
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rating::testutil::d;

    fn m(s: &str) -> Month {
        Month::parse(s).unwrap()
    }

    fn agreement(months: Option<u32>) -> Agreement {
        Agreement {
            agency_id: "ag".into(),
            rate_percent: d("7.5"),
            months_per_referral: months,
        }
    }

    fn referral(id: &str, first: &str) -> Referral {
        Referral {
            contract_id: id.into(),
            contract_name: format!("name of {id}"),
            first_month: m(first),
        }
    }

    fn bill(id: &str, month: &str, pre_tax: &str) -> ReferredBill {
        ReferredBill {
            contract_id: id.into(),
            month: m(month),
            currency: Currency::Jpy,
            pre_tax: d(pre_tax),
        }
    }

    #[test]
    fn two_closed_months_then_a_clawback_on_the_next_statement() {
        let a = agreement(None);
        let refs = [referral("c1", "2026-01"), referral("c2", "2026-02")];
        let jan = statement(
            m("2026-01"),
            &a,
            &refs,
            &[bill("c1", "2026-01", "10001")],
            &[],
        );
        // 10001 × 7.5 % = 750.075 → 750
        assert_eq!(jan.lines.len(), 1);
        assert_eq!(jan.lines[0].commission, d("750"));
        let paid = paid_after(&[], &jan);

        // February: c1's January bill was credited 2001 after its statement
        let bills = [
            bill("c1", "2026-01", "8000"),
            bill("c1", "2026-02", "20000"),
            bill("c2", "2026-02", "4000"),
        ];
        let feb = statement(m("2026-02"), &a, &refs, &bills, &paid);
        let got: Vec<_> = feb
            .lines
            .iter()
            .map(|l| {
                (
                    l.kind,
                    l.contract_id.as_str(),
                    l.bill_month.to_string(),
                    l.base,
                    l.commission,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                // 8000 × 7.5 % = 600: 150 clawed back
                (
                    CommissionKind::Clawback,
                    "c1",
                    "2026-01".into(),
                    d("-2001"),
                    d("-150")
                ),
                (
                    CommissionKind::Commission,
                    "c1",
                    "2026-02".into(),
                    d("20000"),
                    d("1500")
                ),
                (
                    CommissionKind::Commission,
                    "c2",
                    "2026-02".into(),
                    d("4000"),
                    d("300")
                ),
            ]
        );
        assert_eq!(feb.totals(), [(Currency::Jpy, d("1650"))]);
        // the clawback is taken once: March's statement has nothing more on January
        let paid = paid_after(&paid, &feb);
        let mar = statement(m("2026-03"), &a, &refs, &bills, &paid);
        assert!(mar.lines.is_empty());
    }

    #[test]
    fn only_the_agreed_months_of_a_referral_earn() {
        let a = agreement(Some(2));
        let refs = [referral("c1", "2025-12")];
        let bills = [
            bill("c1", "2025-12", "100"),
            bill("c1", "2026-01", "100"),
            bill("c1", "2026-02", "100"),
        ];
        let earned: Vec<usize> = ["2025-12", "2026-01", "2026-02"]
            .iter()
            .map(|x| statement(m(x), &a, &refs, &bills, &[]).lines.len())
            .collect();
        // the unpaid December and January are not the February statement's business
        assert_eq!(earned, [1, 1, 0]);
    }

    #[test]
    fn bills_of_contracts_not_referred_are_ignored() {
        let a = agreement(None);
        let s = statement(
            m("2026-01"),
            &a,
            &[referral("c1", "2026-01")],
            &[bill("other", "2026-01", "100")],
            &[],
        );
        assert!(s.lines.is_empty());
    }
}
