//! Payments (SPEC §6): the operator records payments against FIXED bills; a FIXED bill is due at
//! the end of the month after its month (`ECL_PAYMENT_DUE_MONTHS` months after, default 1), and
//! a contract is overdue while one of its FIXED bills is past due and not fully paid — which
//! refuses its SLA claims.

use std::collections::HashMap;

use chrono::{Days, NaiveDate};
use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult, ContractId, Principal};
use ecl_proto::sla::{OverdueContracts, PaymentInput, PaymentView};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use sea_orm_migration::prelude::*;

use crate::{Billing, entity::fixed_bill, rating::Month};

pub mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "payments")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        #[sea_orm(indexed)]
        pub contract_id: String,
        pub month: String,
        pub amount: String,
        pub paid_at: i64,
        pub recorded_by: String,
        pub created_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Frozen: the payments table.
pub(crate) struct M0003Payments;

impl MigrationName for M0003Payments {
    fn name(&self) -> &str {
        "m0003_payments"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0003Payments {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use sea_orm_migration::schema::{big_integer, string};
        manager
            .create_table(
                Table::create()
                    .table("payments")
                    .if_not_exists()
                    .col(string("id").primary_key())
                    .col(string("contract_id"))
                    .col(string("month"))
                    .col(string("amount"))
                    .col(big_integer("paid_at"))
                    .col(string("recorded_by"))
                    .col(big_integer("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(ecl_store::index("payments", "contract_id"))
            .await
    }
}

/// The last day to pay the FIXED bill of `m`: the end of the month `months` later.
pub fn due_date(m: Month, months: u32) -> NaiveDate {
    let mut end = m;
    for _ in 0..=months {
        end = end.next();
    }
    end.start().date_naive() - Days::new(1)
}

/// Whether a bill of `total`, paid `paid` so far and due on `due`, is overdue on `today`.
pub fn is_overdue(total: Decimal, paid: Decimal, due: NaiveDate, today: NaiveDate) -> bool {
    today > due && paid < total
}

impl Billing {
    pub(crate) async fn record_payment(
        &self,
        ctx: &CallCtx,
        input: PaymentInput,
    ) -> AppResult<PaymentView> {
        match &ctx.principal {
            Principal::Anonymous => return Err(AppError::unauthenticated()),
            p if !p.is_operator() => {
                return Err(AppError::forbidden("only operators record payments"));
            }
            _ => {}
        }
        let contract_id = ContractId::parse(input.contract_id.trim())
            .map_err(|e| AppError::invalid("contractId", e.message))?
            .to_string();
        let m = input.month;
        let amount: Decimal = input
            .amount
            .trim()
            .parse()
            .ok()
            .filter(|a: &Decimal| *a > Decimal::ZERO && a.scale() <= 6)
            .ok_or_else(|| AppError::invalid("amount", "amount is a positive decimal"))?;
        let total = self.fixed_total(&contract_id, m).await?.ok_or_else(|| {
            AppError::conflict(format!("the bill of {m} of {contract_id} is not fixed"))
        })?;
        let now = self.clock.now();
        let row = entity::Model {
            id: ecl_kernel::ids::new_id("pay"),
            contract_id: contract_id.clone(),
            month: m.to_string(),
            amount: amount.to_string(),
            paid_at: input.paid_at.timestamp_micros(),
            recorded_by: ctx.principal.label(),
            created_at: now.timestamp_micros(),
        };
        entity::Entity::insert(entity::ActiveModel::from(row.clone()))
            .exec_without_returning(&self.db)
            .await?;
        let paid = self.paid(&contract_id).await?;
        let paid = paid.get(&m.to_string()).copied().unwrap_or_default();
        Ok(PaymentView {
            id: row.id,
            contract_id,
            month: m,
            amount: row.amount,
            paid_at: input.paid_at,
            outstanding: (total - paid).max(Decimal::ZERO).to_string(),
            due_date: due_date(m, self.payment_due_months),
        })
    }

    /// The contracts of `req` with an overdue payment (the SLA service asks; system callers).
    pub(crate) async fn overdue(
        &self,
        ctx: &CallCtx,
        req: OverdueContracts,
    ) -> AppResult<Vec<String>> {
        if !ctx.principal.is_operator() {
            return Err(AppError::forbidden("for the platform's services"));
        }
        let today = self.clock.now().date_naive();
        let mut out = Vec::new();
        for id in req.contract_ids {
            let paid = self.paid(&id).await?;
            let rows = fixed_bill::Entity::find()
                .filter(fixed_bill::Column::ContractId.eq(&id))
                .all(&self.db)
                .await?;
            // totals as corrected since the close (a credit note lowers what is due)
            for b in crate::commercial::serve::fixed_bodies(&self.db, rows).await? {
                let Ok(m) = Month::parse(&b.month) else {
                    continue;
                };
                let total = b.bill.total;
                let p = paid.get(&b.month).copied().unwrap_or_default();
                if is_overdue(total, p, due_date(m, self.payment_due_months), today) {
                    out.push(id.clone());
                    break;
                }
            }
        }
        Ok(out)
    }

    async fn fixed_total(&self, contract_id: &str, m: Month) -> AppResult<Option<Decimal>> {
        let Some(row) = fixed_bill::Entity::find_by_id(format!("{contract_id}|{m}"))
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let mut bodies = crate::commercial::serve::fixed_bodies(&self.db, vec![row]).await?;
        Ok(bodies.pop().map(|b| b.bill.total))
    }

    /// Paid per month of one contract.
    async fn paid(&self, contract_id: &str) -> AppResult<HashMap<String, Decimal>> {
        let mut out: HashMap<String, Decimal> = HashMap::new();
        for p in entity::Entity::find()
            .filter(entity::Column::ContractId.eq(contract_id))
            .all(&self.db)
            .await?
        {
            *out.entry(p.month).or_default() += p.amount.parse::<Decimal>().unwrap_or_default();
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_bill_is_due_at_the_end_of_the_following_month() {
        let jan = Month::parse("2026-01").unwrap();
        assert_eq!(due_date(jan, 1).to_string(), "2026-02-28");
        assert_eq!(
            due_date(Month::parse("2026-12").unwrap(), 1).to_string(),
            "2027-01-31"
        );
        assert_eq!(due_date(jan, 2).to_string(), "2026-03-31");
    }

    #[test]
    fn overdue_means_past_due_and_not_fully_paid() {
        let due = NaiveDate::from_ymd_opt(2026, 2, 28).unwrap();
        let after = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let total = Decimal::from(1000);
        assert!(!is_overdue(total, Decimal::ZERO, due, due));
        assert!(is_overdue(total, Decimal::ZERO, due, after));
        assert!(is_overdue(total, Decimal::from(999), due, after));
        assert!(!is_overdue(total, total, due, after));
        assert!(!is_overdue(Decimal::ZERO, Decimal::ZERO, due, after));
    }
}
