//! A fixed bill is stored in parts, so the month close never holds a whole bill (issue 14: the
//! 100,000-resource bill of one contract took the embedded close to 1.3 GB): `fixed_bills.body` is
//! the bill with its totals and adjustments but no tenants, and each tenant's section is a row of
//! `fixed_bill_tenants`, written as the close rates that tenant. Reading a fixed bill puts the
//! tenants back in order; the bill read is exactly the bill the close computed.
//!
//! The close writes the parts before its transaction (they are many and large), keyed by the
//! attempt — the `closed_at` the close records — and the transaction that records the month
//! removes every other attempt's parts of that month. A reader takes only the recorded attempt's
//! parts, so a failed or losing close leaves nothing a reader sees. A bill stored whole (before
//! this table existed) has its tenants in its body and no parts. The operator's later
//! corrections are kept apart too (`commercial::corrections`) and applied to the body as it is
//! read, so the bill read is the close's plus its corrections.

use std::collections::HashMap;

use ecl_kernel::{AppError, AppResult};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set, sea_query::OnConflict,
};
use sea_orm_migration::prelude::*;

use crate::{
    Billing,
    bill::{Bill, TenantBill},
    entity::{closed_month, fixed_bill},
    rating::Month,
};

pub mod entity {
    use sea_orm::entity::prelude::*;

    /// One tenant's section of a fixed bill. `id` is `contract|month|attempt|seq`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "fixed_bill_tenants")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The fixed bill's id (`contract|month`).
        #[sea_orm(indexed)]
        pub bill_id: String,
        #[sea_orm(indexed)]
        pub month: String,
        /// The close that wrote it: the `closed_at` it records in `closed_months`.
        pub attempt: i64,
        /// Position of the tenant in the bill.
        pub seq: i64,
        /// The `TenantBill`, JSON.
        #[sea_orm(column_type = "Text")]
        pub body: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Frozen: the table of fixed bills' tenant sections.
pub(crate) struct M0004FixedBillTenants;

impl MigrationName for M0004FixedBillTenants {
    fn name(&self) -> &str {
        "m0004_fixed_bill_tenants"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0004FixedBillTenants {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use sea_orm_migration::schema::{big_integer, string, text};
        manager
            .create_table(
                Table::create()
                    .table("fixed_bill_tenants")
                    .if_not_exists()
                    .col(string("id").primary_key())
                    .col(string("bill_id"))
                    .col(string("month"))
                    .col(big_integer("attempt"))
                    .col(big_integer("seq"))
                    .col(text("body"))
                    .to_owned(),
            )
            .await?;
        for c in ["bill_id", "month"] {
            manager
                .create_index(ecl_store::index("fixed_bill_tenants", c))
                .await?;
        }
        Ok(())
    }
}

/// A tenant section to store: the bill it belongs to, its position, the section.
pub(crate) struct Part<'a> {
    pub bill_id: &'a str,
    pub seq: usize,
    pub tenant: &'a TenantBill,
}

/// Stores tenant sections of the close `attempt` of month `m` (again, if this attempt wrote
/// them already).
pub(crate) async fn write<C: ConnectionTrait>(
    db: &C,
    m: Month,
    attempt: i64,
    parts: &[Part<'_>],
) -> AppResult<()> {
    // A chunk's rows are encoded just before they are written, so only one chunk of JSON is
    // held at a time.
    for chunk in parts.chunks(50) {
        let rows = chunk
            .iter()
            .map(|p| {
                Ok(entity::ActiveModel {
                    id: Set(format!("{}|{attempt}|{:06}", p.bill_id, p.seq)),
                    bill_id: Set(p.bill_id.to_string()),
                    month: Set(m.to_string()),
                    attempt: Set(attempt),
                    seq: Set(p.seq as i64),
                    body: Set(serde_json::to_string(p.tenant).map_err(AppError::internal)?),
                })
            })
            .collect::<AppResult<Vec<_>>>()?;
        entity::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::column(entity::Column::Id)
                    .update_column(entity::Column::Body)
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// In the transaction that records the close `attempt` of `m`: the parts of every other attempt
/// of that month go.
pub(crate) async fn keep_only<C: ConnectionTrait>(db: &C, m: Month, attempt: i64) -> AppResult<()> {
    entity::Entity::delete_many()
        .filter(entity::Column::Month.eq(m.to_string()))
        .filter(entity::Column::Attempt.ne(attempt))
        .exec(db)
        .await?;
    Ok(())
}

impl Billing {
    /// Fixed bills as stored rows read back whole, by id: the body with its corrections, and its
    /// tenants from the parts of the close that recorded its month (one read per table for the
    /// whole batch).
    pub(crate) async fn whole_fixed_bills(
        &self,
        rows: Vec<fixed_bill::Model>,
    ) -> AppResult<HashMap<String, Bill>> {
        let mut bills: HashMap<String, (String, Bill)> = HashMap::new();
        // the bodies with their corrections (`commercial::corrections`): tenants are untouched
        for b in crate::commercial::serve::fixed_bodies(&self.db, rows).await? {
            bills.insert(b.id, (b.month, b.bill));
        }
        let in_parts: Vec<String> = bills
            .iter()
            .filter(|(_, (_, b))| b.tenants.is_empty())
            .map(|(id, _)| id.clone())
            .collect();
        if !in_parts.is_empty() {
            let months: Vec<String> = bills.values().map(|(m, _)| m.clone()).collect();
            let attempts: HashMap<String, i64> = closed_month::Entity::find()
                .filter(closed_month::Column::Month.is_in(months))
                .all(&self.db)
                .await?
                .into_iter()
                .map(|c| (c.month, c.closed_at))
                .collect();
            let parts = entity::Entity::find()
                .filter(entity::Column::BillId.is_in(in_parts))
                .order_by_asc(entity::Column::BillId)
                .order_by_asc(entity::Column::Seq)
                .all(&self.db)
                .await?;
            for p in parts {
                if attempts.get(&p.month) != Some(&p.attempt) {
                    continue;
                }
                if let Some((_, bill)) = bills.get_mut(&p.bill_id) {
                    bill.tenants
                        .push(serde_json::from_str(&p.body).map_err(AppError::internal)?);
                }
            }
        }
        Ok(bills.into_iter().map(|(id, (_, b))| (id, b)).collect())
    }
}
