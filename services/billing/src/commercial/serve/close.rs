//! What a month's close adds: each child's end-user bill, priced from the usage the close already
//! fetched (child by child), and each agency's commission statement.

use std::collections::HashMap;

use ecl_kernel::AppResult;
use ecl_proto::contract::ContractKind;
use sea_orm::{ConnectionTrait, EntityTrait, sea_query::OnConflict};

use super::end_user_bills::{EndUserBillRow, end_user_rows};
use crate::Billing;
use crate::bill::{Bill, BillStatus};
use crate::commercial::adjustments::Pending;
use crate::commercial::coupons::Coupon;
use crate::commercial::price_rules::PriceRule;
use crate::commercial::store::{end_user_bill, statement};
use crate::commercial::tax::TaxSetting;
use crate::entity::{contract, tenant};
use crate::rating::{Menu, Month, Resource, TenantCharges};

/// What the close computed that the commercial part reuses: one child at a time, so the close
/// holds one child's usage and charges, never the whole month's.
pub(crate) struct Closing<'a> {
    pub month: Month,
    /// The contracts to price the children of (the close passes one child).
    pub contracts: &'a [contract::Model],
    /// Tenants with charges, by contract.
    pub tenants: &'a HashMap<&'a str, Vec<tenant::Model>>,
    pub usage: &'a HashMap<String, Vec<Resource>>,
    pub menus: &'a [Menu],
    /// The wholesale charges of those tenants, taken into the end-user bills.
    pub charges: &'a mut HashMap<String, TenantCharges>,
    pub taxes: &'a HashMap<String, TaxSetting>,
    /// The price rules of partners already read in this close.
    pub rules: &'a mut HashMap<String, Vec<PriceRule>>,
}

/// The statements to write in the close's transaction.
pub(crate) struct Closed {
    statements: Vec<statement::ActiveModel>,
}

impl Closed {
    pub(crate) async fn insert<C: ConnectionTrait>(self, txn: &C) -> AppResult<()> {
        for chunk in self.statements.chunks(200) {
            statement::Entity::insert_many(chunk.to_vec())
                .on_conflict(
                    OnConflict::column(statement::Column::Id)
                        .do_nothing()
                        .to_owned(),
                )
                .exec_without_returning(txn)
                .await?;
        }
        Ok(())
    }
}

/// Prices and stores the end-user bill of each child among `c.contracts`. Stored before the
/// close's transaction (it may be large), and again by a later attempt of the close: a stored
/// end-user bill is read only once its month is closed. Returns how many were priced.
pub(crate) async fn end_user_bills(billing: &Billing, c: Closing<'_>) -> AppResult<usize> {
    let now = billing.clock.now();
    let children: Vec<&str> = c
        .contracts
        .iter()
        .filter(|x| x.kind == ContractKind::Child)
        .map(|x| x.id.as_str())
        .collect();
    let registrations = billing.registrations_for(&children).await?;
    let pairs: Vec<(&str, Month)> = children.iter().map(|id| (*id, c.month)).collect();
    let mut credits = billing.credits_for(&pairs).await?;
    let mut rows = Vec::new();
    for child in c.contracts.iter().filter(|x| x.kind == ContractKind::Child) {
        let (Some(partner), Some(tenants)) =
            (child.parent_id.as_deref(), c.tenants.get(child.id.as_str()))
        else {
            continue;
        };
        if !c.rules.contains_key(partner) {
            let r = billing
                .rules_of(partner)
                .await?
                .into_iter()
                .map(|(r, _)| r)
                .collect();
            c.rules.insert(partner.to_string(), r);
        }
        let coupons: Vec<Coupon> = registrations
            .get(&child.id)
            .into_iter()
            .flatten()
            .filter(|r| r.registration.applies(c.month))
            .map(|r| r.coupon.clone())
            .collect();
        let row = EndUserBillRow::price(
            billing,
            partner,
            child,
            tenants,
            c.usage,
            c.menus,
            c.charges,
            &c.rules[partner],
            c.month,
            now,
            BillStatus::Fixed,
            c.taxes.get(&child.id).copied(),
            &Pending {
                coupons,
                credits: credits
                    .remove(&(child.id.clone(), c.month))
                    .unwrap_or_default(),
            },
        )?;
        rows.push((child.id.clone(), row));
    }
    let n = rows.len();
    for chunk in end_user_rows(&rows, c.month, now.timestamp_micros())?.chunks(200) {
        end_user_bill::Entity::insert_many(chunk.to_vec())
            .on_conflict(
                OnConflict::column(end_user_bill::Column::Id)
                    .update_columns([
                        end_user_bill::Column::Body,
                        end_user_bill::Column::CreatedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&billing.db)
            .await?;
    }
    Ok(n)
}

/// Each agency's commission statement of the month, from the month's direct bills (their totals).
pub(crate) async fn statements(
    billing: &Billing,
    m: Month,
    direct_bills: &HashMap<String, Bill>,
) -> AppResult<Closed> {
    Ok(Closed {
        statements: super::close_statements(billing, m, direct_bills).await?,
    })
}
