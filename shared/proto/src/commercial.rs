//! What partners earn and charge (served by the billing target): price rules and end-user bills,
//! child bill visibility, coupons, agencies and their commission statements, tax settings.
//!
//! Money travels as decimal strings with their scale, never as floats; closed sets are enums.

use crate::billing::Currency;
use crate::{Page, PageArgs, call};
use chrono::{DateTime, Utc};
use ecl_kernel::Month;
use serde::{Deserialize, Serialize};

// ---- price rules --------------------------------------------------------------------------------

closed_set! {
    /// How a price rule prices (its `as_str` is also the CSV exports' provenance column).
    pub enum PriceRuleKind {
        Markup = "MARKUP",
        Discount = "DISCOUNT",
        Fixed = "FIXED",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PriceRuleScope {
    /// The whole price list.
    All,
    /// A menu category (`scope_value` = the category).
    Category,
    /// One menu (`scope_value` = its code).
    Menu,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceRuleInput {
    /// `None`: every child of the partner.
    pub child_id: Option<String>,
    pub scope: PriceRuleScope,
    pub scope_value: Option<String>,
    pub kind: PriceRuleKind,
    /// MARKUP / DISCOUNT: 0–100.
    pub percent: Option<String>,
    /// FIXED: the plan, its unit price and optionally its cap.
    pub plan: Option<String>,
    pub unit_price: Option<String>,
    pub cap: Option<String>,
    /// `YYYY-MM`, the current month or later.
    pub effective_from: Month,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceRuleView {
    pub id: String,
    pub partner_id: String,
    pub child_id: Option<String>,
    pub scope: PriceRuleScope,
    pub scope_value: Option<String>,
    pub kind: PriceRuleKind,
    pub percent: Option<String>,
    pub plan: Option<String>,
    pub unit_price: Option<String>,
    pub cap: Option<String>,
    pub effective_from: Month,
    pub last_month: Option<Month>,
    pub created_at: DateTime<Utc>,
}

/// Sets a price rule of a partner (its owner and admins, within their contract groups for a
/// child rule). A rule with the same key ends the month before this one starts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetPriceRule {
    pub partner_id: String,
    pub input: PriceRuleInput,
}
call!(SetPriceRule => PriceRuleView, "billing", "billing.price_rule_set.v1", key: Scope(Billing, Write));

/// Ends a rule after `last_month` (the current month or later: past months keep their prices).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EndPriceRule {
    pub id: String,
    pub last_month: Month,
}
call!(EndPriceRule => PriceRuleView, "billing", "billing.price_rule_end.v1", key: Scope(Billing, Write));

/// The price rules of several partners, history included, newest first.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListPriceRules {
    pub contract_ids: Vec<String>,
    pub page: PageArgs,
}
call!(ListPriceRules => Vec<(String, Page<PriceRuleView>)>, "billing", "billing.price_rules.v1", key: Scope(Billing, Read));

// ---- end-user bills -----------------------------------------------------------------------------

/// One node of an end-user bill: the wholesale bill's [`BillLine`](crate::billing::BillLine) at
/// end-user prices, and for a charge line where its amount came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndUserLine {
    pub tier: u32,
    pub kind: crate::billing::BillLineKind,
    pub label: String,
    pub detail: String,
    pub usage: String,
    pub amount: String,
    pub tenant_id: Option<String>,
    pub resource_id: Option<String>,
    /// The rule that priced the line; `None` with a `wholesale_amount`: the wholesale price.
    pub rule_id: Option<String>,
    pub rule_kind: Option<PriceRuleKind>,
    /// Charge lines only.
    pub wholesale_amount: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndUserBillView {
    pub contract_id: String,
    pub partner_id: String,
    pub month: Month,
    pub status: crate::billing::BillStatus,
    pub currency: Currency,
    /// The child's part of the partner's bill; `None` for the child's own users, who see no
    /// wholesale amount.
    pub wholesale_subtotal: Option<String>,
    pub subtotal: String,
    pub tax_percent: String,
    pub tax: String,
    pub total: String,
    pub lines: Vec<EndUserLine>,
}

/// The end-user bills of child contracts for a month. The partner sees them; a child's own users
/// when the partner shows them the end-user bill. Others are absent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GetEndUserBills {
    pub contract_ids: Vec<String>,
    pub month: Month,
}
call!(GetEndUserBills => Vec<EndUserBillView>, "billing", "billing.end_user_bills.v1", key: Scope(Billing, Read));

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarginView {
    pub partner_id: String,
    pub child_id: String,
    pub month: Month,
    pub currency: Currency,
    pub wholesale: String,
    pub end_user: String,
    pub margin: String,
}

/// What several partners earn per child in a month (wholesale, end-user, margin; before tax),
/// by partner (DataLoader batch). Contracts that are not partners the caller manages are absent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GetMargins {
    pub partner_ids: Vec<String>,
    pub month: Month,
}
call!(GetMargins => Vec<(String, Vec<MarginView>)>, "billing", "billing.margins.v2", key: Scope(Billing, Read));

/// The end-user bill as CSV: the wholesale export's columns plus the provenance columns.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExportEndUserBill {
    pub contract_id: String,
    pub month: Month,
    pub format: crate::billing::ExportFormat,
}
call!(ExportEndUserBill => crate::billing::ExportFile, "billing", "billing.end_user_export.v1", key: Scope(Billing, Read));

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChildBillView {
    /// The end-user bill (default).
    #[default]
    EndUser,
    /// No bill at all.
    None,
    /// The wholesale bill (rarely: the partner shows its cost).
    Wholesale,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildBillVisibility {
    pub child_id: String,
    pub view: ChildBillView,
}

/// What a child's own users see of its bills (the partner's owner and admins).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetChildBillVisibility {
    pub child_id: String,
    pub view: ChildBillView,
}
call!(SetChildBillVisibility => ChildBillVisibility, "billing", "billing.child_bill_view.v1", key: Scope(Billing, Write));

// ---- coupons ------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CouponKind {
    Amount,
    Percent,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CouponInput {
    pub code: String,
    pub kind: CouponKind,
    /// AMOUNT: the amount and its currency.
    pub amount: Option<String>,
    pub currency: Option<Currency>,
    /// PERCENT: 0–100.
    pub percent: Option<String>,
    pub months: u32,
    pub menus: Vec<String>,
    pub categories: Vec<String>,
    pub register_until: Option<DateTime<Utc>>,
    pub reusable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CouponView {
    pub code: String,
    pub kind: CouponKind,
    pub amount: Option<String>,
    pub currency: Option<Currency>,
    pub percent: Option<String>,
    pub months: u32,
    pub menus: Vec<String>,
    pub categories: Vec<String>,
    pub register_until: Option<DateTime<Utc>>,
    pub reusable: bool,
}

/// Defines a coupon (operators).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateCoupon {
    pub input: CouponInput,
}
call!(CreateCoupon => CouponView, "billing", "billing.coupon_create.v1");

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CouponRegistrationView {
    pub contract_id: String,
    pub coupon: CouponView,
    pub registered_at: DateTime<Utc>,
    /// The month after registration.
    pub first_month: Month,
    pub last_month: Month,
}

/// Registers a code for a contract (its owner): from the next month for the coupon's months.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RegisterCoupon {
    pub contract_id: String,
    pub code: String,
}
call!(RegisterCoupon => CouponRegistrationView, "billing", "billing.coupon_register.v1");

/// The coupons registered by several contracts (DataLoader batch).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListCoupons {
    pub contract_ids: Vec<String>,
}
call!(ListCoupons => Vec<(String, Vec<CouponRegistrationView>)>, "billing", "billing.coupons.v1", key: Scope(Billing, Read));

// ---- tax settings -------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaxKind {
    Rate,
    Exempt,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxSettingView {
    pub contract_id: String,
    pub kind: TaxKind,
    pub percent: Option<String>,
}

/// Sets a non-JPY contract's tax (operators): a rate, or exempt. Bills not yet fixed follow it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetTaxSetting {
    pub contract_id: String,
    /// The contract's currency (`JPY` is refused: the consumption-tax table decides).
    pub currency: Currency,
    pub kind: TaxKind,
    pub percent: Option<String>,
}
call!(SetTaxSetting => TaxSettingView, "billing", "billing.tax_setting_set.v1");

// ---- agencies -----------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgreementView {
    pub agency_id: String,
    pub rate_percent: String,
    pub months_per_referral: Option<u32>,
}

/// Records an agency contract's agreement (operators). `agency_id: None` only checks the terms,
/// so the gateway can refuse bad terms before it creates the agency's contract.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetAgreement {
    pub agency_id: Option<String>,
    pub rate_percent: String,
    pub months_per_referral: Option<u32>,
}
call!(SetAgreement => AgreementView, "billing", "billing.agreement_set.v1");

/// Records that a direct contract was referred by an agency (operators). `contract_id: None` only
/// checks that the agency exists, before the contract is created.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetReferral {
    pub contract_id: Option<String>,
    pub contract_name: String,
    pub agency_id: String,
}
call!(SetReferral => AgreementView, "billing", "billing.referral_set.v1");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CommissionKind {
    Commission,
    Clawback,
}

/// One referred contract's line: its name and amounts, nothing else of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommissionLineView {
    pub kind: CommissionKind,
    pub contract_id: String,
    pub contract_name: String,
    pub bill_month: Month,
    pub currency: Currency,
    pub base: String,
    pub commission: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommissionStatementView {
    pub agency_id: String,
    pub month: Month,
    pub rate_percent: String,
    pub lines: Vec<CommissionLineView>,
    /// (currency, total).
    pub totals: Vec<(Currency, String)>,
}

/// Agencies' statements, newest month first.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListCommissions {
    pub contract_ids: Vec<String>,
    pub page: PageArgs,
}
call!(ListCommissions => Vec<(String, Page<CommissionStatementView>)>, "billing", "billing.commissions.v1", key: Scope(Billing, Read));

// ---- corrections of fixed bills -----------------------------------------------------------------

/// A correction of a FIXED bill: `amount` in the bill's currency, negative to credit the
/// customer, positive to charge more (not zero); `reason` 1–200 characters, trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillCorrectionInput {
    pub amount: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillCorrectionView {
    pub id: String,
    pub contract_id: String,
    pub month: Month,
    /// As applied: rounded toward zero to the currency's unit.
    pub amount: String,
    pub currency: Currency,
    pub reason: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorrectedBill {
    pub correction: BillCorrectionView,
    /// The bill with every correction so far (a tier-2 `Adjustment` line each, before the tax).
    pub bill: crate::billing::BillView,
}

/// Corrects a contract's FIXED bill of a closed month (operators). Refused, with nothing stored,
/// for a month not closed or a contract with no bill in it (`CONFLICT`) and for a correction that
/// would take the bill's total before tax below zero (`INVALID_INPUT` on `amount`). Announces
/// nothing: the agencies' next statements claw back what it changed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CorrectBill {
    pub contract_id: String,
    pub month: Month,
    pub input: BillCorrectionInput,
}
call!(CorrectBill => CorrectedBill, "billing", "billing.bill_correct.v1");

#[cfg(test)]
mod tests {
    use super::*;

    /// Literal messages of when months and currencies were strings: they read, and write back
    /// byte for byte.
    fn same<T: Serialize + serde::de::DeserializeOwned>(old: &str) -> T {
        let v: T = serde_json::from_str(old).unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), old);
        v
    }

    #[test]
    fn price_rules_keep_their_wire_text() {
        let r: PriceRuleView = same(
            r#"{"id":"prr_1","partner_id":"ctr_p","child_id":null,"scope":"ALL","scope_value":null,"kind":"MARKUP","percent":"20","plan":null,"unit_price":null,"cap":null,"effective_from":"2026-04","last_month":"2026-06","created_at":"2026-04-01T00:00:00Z"}"#,
        );
        assert_eq!(r.effective_from, Month::new(2026, 4).unwrap());
        assert_eq!(r.last_month, Some(Month::new(2026, 6).unwrap()));
        same::<PriceRuleView>(
            r#"{"id":"prr_1","partner_id":"ctr_p","child_id":"ctr_c","scope":"MENU","scope_value":"compute","kind":"FIXED","percent":null,"plan":"1CPU-4GB","unit_price":"0.2","cap":null,"effective_from":"2026-04","last_month":null,"created_at":"2026-04-01T00:00:00Z"}"#,
        );
        same::<EndPriceRule>(r#"{"id":"prr_1","last_month":"2026-05"}"#);
    }

    #[test]
    fn coupons_keep_their_wire_text() {
        let r: CouponRegistrationView = same(
            r#"{"contract_id":"ctr_1","coupon":{"code":"WELCOME","kind":"AMOUNT","amount":"1000","currency":"JPY","percent":null,"months":3,"menus":[],"categories":["Compute"],"register_until":null,"reusable":true},"registered_at":"2026-03-15T00:00:00Z","first_month":"2026-04","last_month":"2026-06"}"#,
        );
        assert_eq!(r.coupon.currency, Some(Currency::Jpy));
        let c: CouponView = same(
            r#"{"code":"TENOFF","kind":"PERCENT","amount":null,"currency":null,"percent":"10","months":1,"menus":["compute"],"categories":[],"register_until":"2026-12-31T00:00:00Z","reusable":false}"#,
        );
        assert_eq!(c.currency, None);
    }

    #[test]
    fn end_user_bills_statements_and_corrections_keep_their_wire_text() {
        same::<EndUserBillView>(
            r#"{"contract_id":"ctr_c","partner_id":"ctr_p","month":"2026-03","status":"ESTIMATED","currency":"USD","wholesale_subtotal":null,"subtotal":"12.00","tax_percent":"0","tax":"0.00","total":"12.00","lines":[]}"#,
        );
        same::<MarginView>(
            r#"{"partner_id":"ctr_p","child_id":"ctr_c","month":"2026-03","currency":"JPY","wholesale":"100","end_user":"120","margin":"20"}"#,
        );
        let s: CommissionStatementView = same(
            r#"{"agency_id":"ctr_a","month":"2026-05","rate_percent":"10","lines":[{"kind":"CLAWBACK","contract_id":"ctr_1","contract_name":"Acme","bill_month":"2026-03","currency":"USD","base":"-5.00","commission":"-0.50"}],"totals":[["USD","-0.50"],["JPY","300"]]}"#,
        );
        assert_eq!(s.totals[0].0, Currency::Usd);
        same::<BillCorrectionView>(
            r#"{"id":"cor_1","contract_id":"ctr_1","month":"2026-01","amount":"-100","currency":"JPY","reason":"goodwill","created_at":"2026-02-03T04:05:06Z"}"#,
        );
        same::<SetTaxSetting>(
            r#"{"contract_id":"ctr_1","currency":"USD","kind":"RATE","percent":"7.5"}"#,
        );
    }
}
