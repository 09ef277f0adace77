//! What a month's close adds: each child's end-user bill, priced from the usage the close already
//! fetched, and each agency's commission statement.

use std::collections::HashMap;
use std::time::Duration;

use ecl_kernel::AppResult;
use sea_orm::{ConnectionTrait, EntityTrait, sea_query::OnConflict};

use super::end_user_bills::{EndUserBillRow, end_user_rows};
use crate::Billing;
use crate::bill::{Bill, BillStatus};
use crate::commercial::price_rules::PriceRule;
use crate::commercial::store::{end_user_bill, statement};
use crate::commercial::tax::TaxSetting;
use crate::entity::{contract, tenant};
use crate::rating::{Menu, Month, Resource, TenantCharges};

/// What the close computed that the commercial part reuses.
pub(crate) struct Closing<'a> {
    pub month: Month,
    pub contracts: &'a [contract::Model],
    /// Tenants with charges, by contract.
    pub tenants: &'a HashMap<&'a str, Vec<tenant::Model>>,
    pub usage: &'a HashMap<String, Vec<Resource>>,
    pub menus: &'a [Menu],
    pub charges: &'a HashMap<String, TenantCharges>,
    pub direct_bills: &'a HashMap<String, Bill>,
    pub taxes: &'a HashMap<String, TaxSetting>,
    /// How long wholesale rating took, to log beside re-pricing.
    pub rating: Duration,
}

/// The rows to write in the close's transaction.
pub(crate) struct Closed {
    end_user: Vec<end_user_bill::ActiveModel>,
    statements: Vec<statement::ActiveModel>,
}

impl Closed {
    pub(crate) async fn insert<C: ConnectionTrait>(self, txn: &C) -> AppResult<()> {
        for chunk in self.end_user.chunks(200) {
            end_user_bill::Entity::insert_many(chunk.to_vec())
                .on_conflict(
                    OnConflict::column(end_user_bill::Column::Id)
                        .do_nothing()
                        .to_owned(),
                )
                .exec_without_returning(txn)
                .await?;
        }
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

pub(crate) async fn close_month(billing: &Billing, c: &Closing<'_>) -> AppResult<Closed> {
    let started = std::time::Instant::now();
    let now = billing.clock.now();
    let mut rules: HashMap<&str, Vec<PriceRule>> = HashMap::new();
    let mut rows = Vec::new();
    for child in c
        .contracts
        .iter()
        .filter(|x| x.kind == ecl_proto::contract::ContractKind::Child)
    {
        let (Some(partner), Some(tenants)) =
            (child.parent_id.as_deref(), c.tenants.get(child.id.as_str()))
        else {
            continue;
        };
        if !rules.contains_key(partner) {
            let r = billing
                .rules_of(partner)
                .await?
                .into_iter()
                .map(|(r, _)| r)
                .collect();
            rules.insert(partner, r);
        }
        let row = EndUserBillRow::price(
            billing,
            partner,
            child,
            tenants,
            c.usage,
            c.menus,
            c.charges,
            &rules[partner],
            c.month,
            now,
            BillStatus::Fixed,
            c.taxes.get(&child.id).copied(),
        )?;
        rows.push((child.id.clone(), row));
    }
    let repricing = started.elapsed();
    tracing::info!(
        month = %c.month,
        end_user_bills = rows.len(),
        rating = ?c.rating,
        repricing = ?repricing,
        "end-user bills priced"
    );
    Ok(Closed {
        end_user: end_user_rows(&rows, c.month, now.timestamp_micros())?,
        statements: super::close_statements(billing, c.month, c.direct_bills).await?,
    })
}
