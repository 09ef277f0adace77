//! SLA credits on bills (SPEC §6, §8): the SLA service's `CreditApproved` is kept once (the
//! inbox) and lands on the contract's bill of its `bill_month` — two months after the approval —
//! as a negative line under each credited tenant, after the prices and the coupons and before
//! the tenant's rounding and the tax (the order is [`crate::commercial::adjustments`]'s), never
//! taking a tenant, or the bill, below zero. A partner's bill holds its children's
//! tenants, so a child's credit reduces the partner's bill too.

use std::collections::{BTreeSet, HashMap, HashSet};

use ecl_kernel::{AppError, AppResult};
use ecl_proto::sla::CreditApproved;
use rust_decimal::Decimal;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, Set, sea_query::OnConflict,
};
use sea_orm_migration::prelude::*;

use crate::{
    Billing,
    bill::{Bill, CategoryNode, ResourceNode, ServiceNode},
    rating::{ChargeLine, LineKind, MenuInfo, Month, Unit},
};

/// The label of a credit line in the bill tree and the CSV files.
pub const CREDIT_LABEL: &str = "SLAクレジット";
/// The category tier above the credit lines.
const CREDIT_CATEGORY: &str = "サービスクレジット";

pub mod entity {
    use sea_orm::entity::prelude::*;

    /// An approved SLA credit, as the SLA service announced it.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "sla_credits")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        #[sea_orm(indexed)]
        pub contract_id: String,
        pub parent_id: Option<String>,
        /// The bill it lands on (`YYYY-MM` text).
        #[sea_orm(indexed)]
        pub bill_month: ecl_kernel::Month,
        pub amount: String,
        /// JSON array of (tenant id, amount).
        #[sea_orm(column_type = "Text")]
        pub tenant_amounts: String,
        pub currency: ecl_proto::billing::Currency,
        pub label: String,
        pub approved_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Frozen: the credits table.
pub(crate) struct M0002SlaCredits;

impl MigrationName for M0002SlaCredits {
    fn name(&self) -> &str {
        "m0002_sla_credits"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0002SlaCredits {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use sea_orm_migration::schema::{big_integer, string, string_null, text};
        manager
            .create_table(
                Table::create()
                    .table("sla_credits")
                    .if_not_exists()
                    .col(string("id").primary_key())
                    .col(string("contract_id"))
                    .col(string_null("parent_id"))
                    .col(string("bill_month"))
                    .col(string("amount"))
                    .col(text("tenant_amounts"))
                    .col(string("currency"))
                    .col(string("label"))
                    .col(big_integer("approved_at"))
                    .to_owned(),
            )
            .await?;
        for c in ["contract_id", "bill_month"] {
            manager
                .create_index(ecl_store::index("sla_credits", c))
                .await?;
        }
        Ok(())
    }
}

/// A tenant's credits: (label, amount) each.
pub type TenantCredits = HashMap<String, Vec<(String, Decimal)>>;

/// The bill with `credits` applied: each credited tenant gets an `SLA` service node whose lines
/// take at most what the tenant's lines add up to; tenant totals, the subtotal, the tax and the
/// total follow (the tax on the credited subtotal).
#[cfg(test)]
pub fn credited(bill: Bill, credits: &TenantCredits) -> Bill {
    credited_within(bill, credits, None)
}

/// As [`credited`], the credits together taking at most `limit` (what the coupons left of the
/// bill, see [`crate::commercial::adjustments::adjust`]), in tenant order.
pub fn credited_within(mut bill: Bill, credits: &TenantCredits, limit: Option<Decimal>) -> Bill {
    let currency = bill.header.currency;
    let mut touched = false;
    let mut bill_left = limit.map(|l| l.max(Decimal::ZERO));
    for t in &mut bill.tenants {
        let Some(list) = credits.get(&t.tenant.tenant_id) else {
            continue;
        };
        let mut left = t.exact_amount.max(Decimal::ZERO);
        let mut resources = Vec::new();
        for (label, amount) in list {
            let mut take = (*amount).max(Decimal::ZERO).min(left);
            if let Some(b) = &mut bill_left {
                take = take.min(*b);
                *b -= take;
            }
            left -= take;
            resources.push(ResourceNode {
                menu: MenuInfo {
                    code: "sla-credit".into(),
                    service: "SLA".into(),
                    category: CREDIT_CATEGORY.into(),
                    subcategory: String::new(),
                    name: CREDIT_LABEL.into(),
                    region: t.tenant.region.clone(),
                    currency,
                },
                resource_id: None,
                resource_name: None,
                quantity: None,
                amount: -take,
                plans: Vec::new(),
                lines: vec![ChargeLine {
                    kind: LineKind::SlaCredit,
                    plan: None,
                    tier_label: None,
                    status: None,
                    quantity: Decimal::ZERO,
                    unit: Unit::Count,
                    amount: -take,
                    description: label.clone(),
                }],
            });
        }
        let taken: Decimal = resources.iter().map(|r| -r.amount).sum();
        t.services.push(ServiceNode {
            name: "SLA".into(),
            amount: -taken,
            categories: vec![CategoryNode {
                name: CREDIT_CATEGORY.into(),
                amount: -taken,
                resources,
            }],
        });
        t.exact_amount -= taken;
        t.total = currency.round_down(t.exact_amount);
        touched = true;
    }
    if touched {
        bill.subtotal = currency.round_down(bill.tenants.iter().map(|t| t.total).sum());
        bill.tax.amount =
            currency.round_down(bill.subtotal * bill.tax.percent / Decimal::ONE_HUNDRED);
        bill.total = currency.round_down(bill.subtotal + bill.tax.amount);
    }
    bill
}

impl Billing {
    /// Keeps an approved credit (in the inbox's transaction: once).
    pub(crate) async fn on_credit_approved<C: ConnectionTrait>(
        &self,
        db: &C,
        ev: CreditApproved,
    ) -> AppResult<()> {
        let c = ev.credit;
        let row = entity::ActiveModel {
            id: Set(c.id),
            contract_id: Set(c.contract_id),
            parent_id: Set(c.parent_id),
            bill_month: Set(c.bill_month),
            amount: Set(c.amount),
            tenant_amounts: Set(
                serde_json::to_string(&c.tenant_amounts).map_err(AppError::internal)?
            ),
            currency: Set(c.currency),
            label: Set(c.label),
            approved_at: Set(c.approved_at.timestamp_micros()),
        };
        entity::Entity::insert(row)
            .on_conflict(
                OnConflict::column(entity::Column::Id)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
        Ok(())
    }

    /// The credits landing on each (contract, month) bill of a batch: a contract's own and, for
    /// a partner, its children's. One read, whatever the batch's size.
    pub(crate) async fn credits_for(
        &self,
        pairs: &[(&str, Month)],
    ) -> AppResult<HashMap<(String, Month), TenantCredits>> {
        let mut out: HashMap<(String, Month), TenantCredits> = HashMap::new();
        if pairs.is_empty() {
            return Ok(out);
        }
        let ids: BTreeSet<&str> = pairs.iter().map(|(c, _)| *c).collect();
        let months: BTreeSet<Month> = pairs.iter().map(|(_, m)| *m).collect();
        let wanted: HashSet<(&str, Month)> = pairs.iter().map(|(c, m)| (*c, *m)).collect();
        let rows = entity::Entity::find()
            .filter(entity::Column::BillMonth.is_in(months))
            .filter(
                Condition::any()
                    .add(entity::Column::ContractId.is_in(ids.iter().copied()))
                    .add(entity::Column::ParentId.is_in(ids.iter().copied())),
            )
            .all(&self.db)
            .await?;
        for r in rows {
            let parts: Vec<(String, String)> =
                serde_json::from_str(&r.tenant_amounts).map_err(AppError::internal)?;
            let m = r.bill_month;
            let on = [Some(r.contract_id.as_str()), r.parent_id.as_deref()];
            for bill_of in on.into_iter().flatten() {
                if !wanted.contains(&(bill_of, m)) {
                    continue;
                }
                let credits = out.entry((bill_of.to_string(), m)).or_default();
                for (tenant, amount) in &parts {
                    let amount: Decimal = amount.parse().map_err(AppError::internal)?;
                    credits
                        .entry(tenant.clone())
                        .or_default()
                        .push((r.label.clone(), amount));
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bill::{BillHeader, BillStatus, ContractInfo, Tax, TaxRule, TenantBill, TenantInfo};
    use crate::rating::{Currency, Month};

    fn bill(exact: &str) -> Bill {
        let exact: Decimal = exact.parse().unwrap();
        let month = Month::parse("2026-05").unwrap();
        let tenant = |id: &str| TenantBill {
            tenant: TenantInfo {
                tenant_id: id.into(),
                name: id.into(),
                region: "jp1".into(),
                workspace_id: "w".into(),
                workspace_name: "w".into(),
            },
            services: Vec::new(),
            exact_amount: exact,
            total: exact.floor(),
        };
        let subtotal = exact.floor() * Decimal::TWO;
        let tax = (subtotal / Decimal::TEN).floor();
        Bill {
            header: BillHeader {
                contract: ContractInfo {
                    contract_id: "econ0000000001".into(),
                    external_contract_id: None,
                    customer_number: "econ0000000001".into(),
                },
                month,
                status: BillStatus::Estimated,
                currency: Currency::Jpy,
                tax_rule: TaxRule::default_for(Currency::Jpy),
            },
            tenants: vec![tenant("a"), tenant("b")],
            subtotal,
            tax: Tax {
                rule: TaxRule::default_for(Currency::Jpy),
                percent: Decimal::TEN,
                amount: tax,
            },
            total: subtotal + tax,
            adjustments: Vec::new(),
        }
    }

    fn credits(tenant: &str, amount: &str) -> TenantCredits {
        HashMap::from([(
            tenant.to_string(),
            vec![("SLA credit".to_string(), amount.parse().unwrap())],
        )])
    }

    #[test]
    fn a_credit_comes_off_the_tenant_before_rounding_and_tax() {
        let b = credited(bill("1000.500000"), &credits("a", "30.900000"));
        let a = &b.tenants[0];
        assert_eq!(a.exact_amount.to_string(), "969.600000");
        assert_eq!(a.total.to_string(), "969");
        assert_eq!(a.services.last().unwrap().amount.to_string(), "-30.900000");
        assert_eq!(b.tenants[1].total.to_string(), "1000");
        assert_eq!(b.subtotal.to_string(), "1969");
        assert_eq!(b.tax.amount.to_string(), "196");
        assert_eq!(b.total.to_string(), "2165");
    }

    #[test]
    fn a_credit_never_makes_a_bill_negative() {
        let b = credited(bill("10.000000"), &credits("a", "25"));
        assert_eq!(b.tenants[0].exact_amount, Decimal::ZERO);
        assert_eq!(
            b.tenants[0].services.last().unwrap().amount.to_string(),
            "-10.000000"
        );
        assert!(b.total >= Decimal::ZERO);
    }

    #[test]
    fn no_credit_no_change() {
        let before = bill("10.000000");
        assert_eq!(credited(before.clone(), &HashMap::new()), before);
    }
}
