//! Correcting a FIXED bill (operators), and [`fixed_bodies`], the one way stored fixed bills are
//! read back: with their corrections applied ([`crate::commercial::corrections::correct`]). The
//! GraphQL bill and the CSV files (through `fixed_bill_parts`), payments and overdue checks, and
//! the agencies' statements at each close all read fixed bills through it, so they agree.

use std::collections::HashMap;

use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult, ContractId, Validation};
use ecl_proto::commercial::{BillCorrectionView, CorrectBill, CorrectedBill};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Set, Statement,
    TransactionTrait,
};

use super::{decode, encode, require_operator};
use crate::Billing;
use crate::bill::Bill;
use crate::bill_view::bill_view;
use crate::commercial::corrections::{Correction, correct, pre_tax, requested};
use crate::commercial::store::bill_correction;
use crate::entity::fixed_bill;
use crate::rating::Currency;

/// A stored fixed bill's body (totals and adjustments; its tenants may be stored apart, see
/// `fixed_bill_parts`) with its corrections applied.
pub(crate) struct FixedBody {
    /// `contract|month`.
    pub id: String,
    pub month: String,
    pub bill: Bill,
}

/// Fixed bills as stored rows, read back with their corrections: one read of the corrections
/// for the whole batch.
pub(crate) async fn fixed_bodies<C: ConnectionTrait>(
    db: &C,
    rows: Vec<fixed_bill::Model>,
) -> AppResult<Vec<FixedBody>> {
    let keys: Vec<(String, String)> = rows
        .iter()
        .map(|r| (r.contract_id.clone(), r.month.clone()))
        .collect();
    let mut corrections = corrections_of(db, &keys).await?;
    rows.into_iter()
        .map(|row| {
            let bill: Bill = decode(&row.body)?;
            let bill = match corrections.remove(&row.id) {
                None => bill,
                // every correction was checked against the bill when it was made
                Some(cs) => correct(bill, &cs).map_err(AppError::internal)?,
            };
            Ok(FixedBody {
                id: row.id,
                month: row.month,
                bill,
            })
        })
        .collect()
}

/// The corrections of a batch of (contract, month) bills, by bill id (`contract|month`), in the
/// order they were made.
async fn corrections_of<C: ConnectionTrait>(
    db: &C,
    bills: &[(String, String)],
) -> AppResult<HashMap<String, Vec<Correction>>> {
    if bills.is_empty() {
        return Ok(HashMap::new());
    }
    let contracts: Vec<&str> = bills.iter().map(|(c, _)| c.as_str()).collect();
    let months: Vec<&str> = bills.iter().map(|(_, m)| m.as_str()).collect();
    let rows = bill_correction::Entity::find()
        .filter(bill_correction::Column::OwnerId.is_in(contracts))
        .filter(bill_correction::Column::Month.is_in(months))
        .all(db)
        .await?;
    let mut out: HashMap<String, Vec<(i64, String, Correction)>> = HashMap::new();
    for r in rows {
        let id = format!("{}|{}", r.owner_id, r.month);
        if !bills.iter().any(|(c, m)| *c == r.owner_id && *m == r.month) {
            continue;
        }
        let c: Correction = decode(&r.body)?;
        out.entry(id).or_default().push((r.created_at, r.id, c));
    }
    Ok(out
        .into_iter()
        .map(|(id, mut cs)| {
            cs.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
            (id, cs.into_iter().map(|(_, _, c)| c).collect())
        })
        .collect())
}

/// Serialises the corrections of one bill across replicas (PostgreSQL): two credits checked at
/// once against the same total could together take it below zero. SQLite has one writer at a
/// time already.
async fn lock<C: ConnectionTrait>(txn: &C, bill_id: &str) -> AppResult<()> {
    if txn.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    txn.query_one_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_advisory_xact_lock(hashtext($1))",
        [format!("billing:correction:{bill_id}").into()],
    ))
    .await?;
    Ok(())
}

fn correction_view(c: &Correction, currency: Currency) -> BillCorrectionView {
    BillCorrectionView {
        id: c.id.clone(),
        contract_id: c.contract_id.clone(),
        month: c.month,
        amount: c.amount.to_string(),
        currency: currency.into(),
        reason: c.reason.clone(),
        created_at: c.created_at,
    }
}

impl Billing {
    /// Corrects a contract's FIXED bill (operators): checked, then stored in one transaction
    /// with the check that the bill stays at or above zero; the bill answered is read back as
    /// every reader reads it.
    pub(crate) async fn correct_bill(
        &self,
        ctx: &CallCtx,
        req: CorrectBill,
    ) -> AppResult<CorrectedBill> {
        require_operator(ctx, "correct fixed bills")?;
        let mut v = Validation::new();
        let contract_id = v.note(
            ContractId::parse(req.contract_id.trim())
                .map_err(|e| AppError::invalid("contractId", e.message)),
        );
        let m = req.month;
        let input = v.note(requested(&req.input.amount, &req.input.reason));
        v.finish()?;
        let (contract_id, input) = (contract_id?.to_string(), input?);
        let c = self.contract_for(ctx, &contract_id).await?;
        if !self.is_closed(m).await? {
            return Err(AppError::conflict(format!(
                "the bill of {m} of {contract_id} is not fixed: {m} is not closed"
            )));
        }
        let bill_id = format!("{contract_id}|{m}");
        let txn = self.db.begin().await?;
        lock(&txn, &bill_id).await?;
        let row = fixed_bill::Entity::find_by_id(bill_id.clone())
            .one(&txn)
            .await?
            .ok_or_else(|| {
                AppError::conflict(format!(
                    "nothing was billed to {contract_id} in {m}: there is no fixed bill to correct"
                ))
            })?;
        let mut bodies = fixed_bodies(&txn, vec![row]).await?;
        let before = bodies.pop().map(|b| b.bill).ok_or_else(|| {
            AppError::internal(format!("the fixed bill {bill_id} was read back as nothing"))
        })?;
        let currency = before.header.currency;
        let amount = input.amount_in(currency)?;
        let now = self.clock.now();
        let correction = Correction {
            id: ecl_kernel::ids::new_id("bcr"),
            contract_id: contract_id.clone(),
            month: m,
            amount,
            reason: input.reason,
            recorded_by: ctx.principal.label(),
            created_at: now,
        };
        let left = currency.round_down(pre_tax(&before));
        correct(before, std::slice::from_ref(&correction)).map_err(|e| {
            AppError::invalid(
                "amount",
                format!("{e}: at most {left} {} can be credited", currency.code()),
            )
        })?;
        bill_correction::Entity::insert(bill_correction::ActiveModel {
            id: Set(correction.id.clone()),
            owner_id: Set(contract_id.clone()),
            month: Set(m.to_string()),
            body: Set(encode(&correction)?),
            created_at: Set(now.timestamp_micros()),
        })
        .exec(&txn)
        .await?;
        txn.commit().await?;
        // after the commit (an embedded store's only connection is free again)
        let bill = self.bill(ctx, &c, m).await?;
        Ok(CorrectedBill {
            correction: correction_view(&correction, currency),
            bill: bill_view(&bill),
        })
    }
}
