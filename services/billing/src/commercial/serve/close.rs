//! What a month's close adds: each child's end-user bill, priced from the usage the close already
//! fetched (child by child), and each agency's commission statement.

use std::collections::HashMap;

use ecl_kernel::AppResult;
use sea_orm::{ConnectionTrait, EntityTrait, sea_query::OnConflict};

use super::end_user_bills::{EndUserBillRow, Spent, end_user_rows};
use crate::Billing;
use crate::bill::{Bill, BillStatus};
use crate::commercial::adjustments::Pending;
use crate::commercial::end_user_bill::EndUserPrices;
use crate::commercial::store::{end_user_bill, statement};
use crate::commercial::tax::TaxSetting;
use crate::entity::{contract, tenant};
use crate::rating::{Month, TenantCharges};

/// What the close computed of one child that its end-user bill reuses: its tenants' charges at
/// wholesale and at its end-user prices, rated together ([`Billing::rate_usage_priced`]), so the
/// close holds one child's charges, never the whole month's.
pub(crate) struct Closing<'a> {
    pub month: Month,
    pub child: &'a contract::Model,
    pub partner_id: &'a str,
    /// The child's tenants with charges.
    pub tenants: &'a [tenant::Model],
    pub prices: &'a EndUserPrices,
    /// Taken into the bills.
    pub wholesale: &'a mut HashMap<String, TenantCharges>,
    pub end_user: &'a mut HashMap<String, TenantCharges>,
    pub tax: Option<TaxSetting>,
    /// The child's coupons in force and SLA credits landing, as the close read them.
    pub pending: &'a Pending,
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

/// Prices and stores a child's end-user bill. Stored before the close's transaction (it may be
/// large), and again by a later attempt of the close: a stored end-user bill is read only once
/// its month is closed. Returns where the time went (building counts the encoding and storing).
pub(crate) async fn end_user_bill(billing: &Billing, c: Closing<'_>) -> AppResult<Spent> {
    let mut spent = Spent::default();
    let now = billing.clock.now();
    let child = c.child;
    let row = EndUserBillRow::price(
        billing,
        c.partner_id,
        child,
        c.tenants,
        c.prices,
        c.wholesale,
        c.end_user,
        c.month,
        BillStatus::Fixed,
        c.tax,
        c.pending,
        &mut spent,
    )?;
    let stored = std::time::Instant::now();
    let rows = end_user_rows(&[(child.id.clone(), row)], c.month, now.timestamp_micros())?;
    end_user_bill::Entity::insert_many(rows)
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
    spent.building += stored.elapsed();
    Ok(spent)
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
