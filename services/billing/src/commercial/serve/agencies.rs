//! Agencies: their agreements (operators), the direct contracts they referred, the commission
//! statement made at each month close, and the statements an agency reads.

use std::collections::HashMap;

use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult};
use ecl_proto::{
    Page,
    commercial::{
        AgreementView, CommissionKind as ProtoKind, CommissionLineView, CommissionStatementView,
        ListCommissions, SetAgreement, SetReferral,
    },
    contract::ContractKind,
    page::Cursor,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set, sea_query::OnConflict};

use super::{decimal, decode, encode, require_operator};
use crate::Billing;
use crate::bill::Bill;
use crate::commercial::agency::{
    Agreement, CommissionKind, Paid, Referral, ReferredBill, Statement, paid_after, statement,
};
use crate::commercial::store::{agreement, referral, statement as statement_row};
use crate::entity::fixed_bill;
use crate::rating::Month;

fn agreement_view(a: &Agreement) -> AgreementView {
    AgreementView {
        agency_id: a.agency_id.clone(),
        rate_percent: a.rate_percent.normalize().to_string(),
        months_per_referral: a.months_per_referral,
    }
}

/// A stored statement, with what all statements so far paid on (the next one's input).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct StoredStatement {
    statement: Statement,
    paid: Vec<Paid>,
}

fn statement_view(s: &Statement) -> CommissionStatementView {
    CommissionStatementView {
        agency_id: s.agency_id.clone(),
        month: s.month,
        rate_percent: s.rate_percent.normalize().to_string(),
        lines: s
            .lines
            .iter()
            .map(|l| CommissionLineView {
                kind: match l.kind {
                    CommissionKind::Commission => ProtoKind::Commission,
                    CommissionKind::Clawback => ProtoKind::Clawback,
                },
                contract_id: l.contract_id.clone(),
                contract_name: l.contract_name.clone(),
                bill_month: l.bill_month,
                currency: l.currency.into(),
                base: l.base.to_string(),
                commission: l.commission.to_string(),
            })
            .collect(),
        totals: s
            .totals()
            .into_iter()
            .map(|(c, t)| (c.into(), t.to_string()))
            .collect(),
    }
}

impl Billing {
    async fn agreement_of(&self, agency_id: &str) -> AppResult<Option<Agreement>> {
        agreement::Entity::find_by_id(agency_id.to_string())
            .one(&self.db)
            .await?
            .map(|r| decode(&r.body))
            .transpose()
    }

    pub(crate) async fn set_agreement(
        &self,
        ctx: &CallCtx,
        req: SetAgreement,
    ) -> AppResult<AgreementView> {
        require_operator(ctx, "make agency agreements")?;
        let rate = decimal("ratePercent", Some(&req.rate_percent))?;
        if rate.is_sign_negative() || rate > rust_decimal::Decimal::ONE_HUNDRED {
            return Err(AppError::invalid(
                "ratePercent",
                format!("a commission rate is between 0 and 100, got {rate}"),
            ));
        }
        if req.months_per_referral == Some(0) {
            return Err(AppError::invalid(
                "monthsPerReferral",
                "a referral earns for at least one month",
            ));
        }
        let a = Agreement {
            agency_id: req.agency_id.clone().unwrap_or_default(),
            rate_percent: rate,
            months_per_referral: req.months_per_referral,
        };
        let Some(agency_id) = req.agency_id else {
            return Ok(agreement_view(&a));
        };
        let c = self.contract_for(ctx, &agency_id).await?;
        if c.kind != ContractKind::Direct {
            return Err(AppError::invalid(
                "agencyId",
                "an agency holds a direct contract",
            ));
        }
        agreement::Entity::insert(agreement::ActiveModel {
            id: Set(agency_id.clone()),
            owner_id: Set(agency_id),
            month: Set(String::new()),
            body: Set(encode(&a)?),
            created_at: Set(self.clock.now().timestamp_micros()),
        })
        .on_conflict(
            OnConflict::column(agreement::Column::Id)
                .update_columns([agreement::Column::Body])
                .to_owned(),
        )
        .exec(&self.db)
        .await?;
        Ok(agreement_view(&a))
    }

    pub(crate) async fn set_referral(
        &self,
        ctx: &CallCtx,
        req: SetReferral,
    ) -> AppResult<AgreementView> {
        require_operator(ctx, "record referrals")?;
        let a = self.agreement_of(&req.agency_id).await?.ok_or_else(|| {
            AppError::invalid("referredBy", format!("{} is not an agency", req.agency_id))
        })?;
        let Some(contract_id) = req.contract_id else {
            return Ok(agreement_view(&a));
        };
        let r = Referral {
            contract_id: contract_id.clone(),
            contract_name: req.contract_name,
            first_month: self.current_month(),
        };
        referral::Entity::insert(referral::ActiveModel {
            id: Set(contract_id),
            owner_id: Set(req.agency_id),
            month: Set(r.first_month.to_string()),
            body: Set(encode(&r)?),
            created_at: Set(self.clock.now().timestamp_micros()),
        })
        .exec(&self.db)
        .await
        .map_err(|_| AppError::conflict("the contract is already referred"))?;
        Ok(agreement_view(&a))
    }

    /// An agency's statements: for its own users who see bills, and the operator. Nothing of the
    /// referred contracts but their names and amounts is in them.
    pub(crate) async fn list_commissions(
        &self,
        ctx: &CallCtx,
        req: ListCommissions,
    ) -> AppResult<Vec<(String, Page<CommissionStatementView>)>> {
        // newest month first; a cursor is a statement's month
        let key = |_: &'static str, c: &Cursor| Ok(c.id.clone());
        let newest_first = |r: &statement_row::Model, k: &String| k.cmp(&r.month);
        req.page.slice(Vec::new(), key, newest_first)?;
        let mut out = Vec::new();
        for id in req.contract_ids {
            let allowed = ctx.principal.is_operator()
                || (ctx.principal.contract_id() == Some(id.as_str())
                    && ctx.principal.may_see_usage());
            if !allowed {
                out.push((id, Page::empty()));
                continue;
            }
            let mut rows = statement_row::Entity::find()
                .filter(statement_row::Column::OwnerId.eq(id.clone()))
                .all(&self.db)
                .await?;
            rows.sort_by(|a, b| b.month.cmp(&a.month));
            let page = req.page.slice(rows, key, newest_first)?;
            let mut edges = Vec::new();
            for r in &page.items {
                let s: StoredStatement = decode(&r.body)?;
                edges.push((
                    Cursor {
                        created_at_us: 0,
                        id: r.month.clone(),
                    },
                    statement_view(&s.statement),
                ));
            }
            out.push((
                id,
                Page {
                    edges,
                    has_next_page: page.has_next_page,
                    has_previous_page: page.has_previous_page,
                    total_count: page.total_count,
                },
            ));
        }
        Ok(out)
    }
}

/// The statements of month `m`, one per agency with an agreement, from the bills just fixed
/// (`fixed`, by contract) and the referred contracts' earlier fixed bills (for clawbacks).
pub(crate) async fn close_statements(
    billing: &Billing,
    m: Month,
    fixed: &HashMap<String, Bill>,
) -> AppResult<Vec<statement_row::ActiveModel>> {
    let mut out = Vec::new();
    let now = billing.clock.now().timestamp_micros();
    for a in agreement::Entity::find().all(&billing.db).await? {
        let agreement: Agreement = decode(&a.body)?;
        let referrals: Vec<Referral> = referral::Entity::find()
            .filter(referral::Column::OwnerId.eq(a.id.clone()))
            .all(&billing.db)
            .await?
            .iter()
            .map(|r| decode(&r.body))
            .collect::<AppResult<_>>()?;
        let ids: Vec<String> = referrals.iter().map(|r| r.contract_id.clone()).collect();
        let mut bills: Vec<ReferredBill> = Vec::new();
        // earlier months' bills as they stand now, corrections included: what changed since a
        // statement paid on them is clawed back (or topped up)
        let rows = fixed_bill::Entity::find()
            .filter(fixed_bill::Column::ContractId.is_in(ids.clone()))
            .all(&billing.db)
            .await?;
        for b in super::fixed_bodies(&billing.db, rows).await? {
            bills.push(referred(&b.bill));
        }
        bills.extend(ids.iter().filter_map(|id| fixed.get(id)).map(referred));
        let previous = statement_row::Entity::find()
            .filter(statement_row::Column::OwnerId.eq(a.id.clone()))
            .all(&billing.db)
            .await?
            .into_iter()
            .filter(|r| r.month.as_str() < m.to_string().as_str())
            .max_by(|x, y| x.month.cmp(&y.month));
        let paid = match previous {
            Some(r) => decode::<StoredStatement>(&r.body)?.paid,
            None => Vec::new(),
        };
        let s = statement(m, &agreement, &referrals, &bills, &paid);
        let stored = StoredStatement {
            paid: paid_after(&paid, &s),
            statement: s,
        };
        out.push(statement_row::ActiveModel {
            id: Set(format!("{}|{m}", a.id)),
            owner_id: Set(a.id.clone()),
            month: Set(m.to_string()),
            body: Set(encode(&stored)?),
            created_at: Set(now),
        });
    }
    Ok(out)
}

/// A fixed bill as commissions see it: its total before tax, after its adjustments and
/// corrections.
fn referred(b: &Bill) -> ReferredBill {
    ReferredBill {
        contract_id: b.header.contract.contract_id.clone(),
        month: b.header.month,
        currency: b.header.currency,
        pre_tax: crate::commercial::corrections::pre_tax(b),
    }
}
