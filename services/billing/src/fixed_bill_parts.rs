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
                    id: Set(part_id(p.bill_id, attempt, p.seq)),
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

/// The id of the section at `seq` of bill `bill_id` stored by the close `attempt`.
fn part_id(bill_id: &str, attempt: i64, seq: usize) -> String {
    format!("{bill_id}|{attempt}|{seq:06}")
}

/// Tenant sections of bill `bill_id` the close `attempt` stored, by position (the close reads
/// back the few it rewrites, see [`crate::tenant_summaries::Rewrite`]).
pub(crate) async fn read<C: ConnectionTrait>(
    db: &C,
    bill_id: &str,
    attempt: i64,
    seqs: &[usize],
) -> AppResult<HashMap<usize, TenantBill>> {
    let mut out = HashMap::with_capacity(seqs.len());
    for chunk in seqs.chunks(500) {
        let ids: Vec<String> = chunk
            .iter()
            .map(|s| part_id(bill_id, attempt, *s))
            .collect();
        for p in entity::Entity::find()
            .filter(entity::Column::Id.is_in(ids))
            .all(db)
            .await?
        {
            out.insert(
                p.seq as usize,
                serde_json::from_str(&p.body).map_err(AppError::internal)?,
            );
        }
    }
    if let Some(missing) = seqs.iter().find(|s| !out.contains_key(s)) {
        return Err(AppError::internal(format!(
            "tenant section {missing} of {bill_id} was not stored by close {attempt}"
        )));
    }
    Ok(out)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bill::TenantInfo;

    fn section(id: &str, exact: &str) -> TenantBill {
        let exact: rust_decimal::Decimal = exact.parse().unwrap();
        TenantBill {
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
        }
    }

    /// What the close rewrites at the end of a bill (a section whose credit the coupons cut) is
    /// read back by its position and stored again in place, the attempt's other sections as
    /// they were.
    #[tokio::test]
    async fn a_section_read_back_and_stored_again_replaces_the_first() {
        let settings = ecl_kernel::Settings {
            database_url: Some("sqlite::memory:".into()),
            ..ecl_kernel::Settings::default()
        };
        let db = ecl_store::connect(&settings, crate::NAME).await.unwrap();
        ecl_store::migrate::<crate::migration::Migrator>(&db, crate::NAME)
            .await
            .unwrap();
        let m = Month::parse("2026-05").unwrap();
        let (a, b, c) = (section("a", "10.5"), section("b", "20"), section("c", "30"));
        let parts = [&a, &b, &c]
            .into_iter()
            .enumerate()
            .map(|(seq, tenant)| Part {
                bill_id: "econ1|2026-05",
                seq,
                tenant,
            })
            .collect::<Vec<_>>();
        write(&db, m, 7, &parts).await.unwrap();
        // another attempt's section at the same position is not this one's
        write(&db, m, 8, &parts[..1]).await.unwrap();
        let mut read_back = read(&db, "econ1|2026-05", 7, &[0, 2]).await.unwrap();
        assert_eq!((read_back[&0].clone(), read_back[&2].clone()), (a, c));
        let rewritten = section("c", "3");
        read_back.insert(2, rewritten.clone());
        let again = [Part {
            bill_id: "econ1|2026-05",
            seq: 2,
            tenant: &read_back[&2],
        }];
        write(&db, m, 7, &again).await.unwrap();
        let all = read(&db, "econ1|2026-05", 7, &[0, 1, 2]).await.unwrap();
        assert_eq!(all[&1], b);
        assert_eq!(all[&2], rewritten);
        assert_eq!(entity::Entity::find().all(&db).await.unwrap().len(), 4);
        // a section the attempt did not store is an error, not a silent gap
        assert!(read(&db, "econ1|2026-05", 7, &[3]).await.is_err());
    }
}
