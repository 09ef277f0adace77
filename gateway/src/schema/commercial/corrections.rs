//! Corrections of FIXED bills: `correctBill` (operators), a credit note or an additional charge
//! on a closed month's bill. The corrected bill shows it as an `ADJUSTMENT` line (`請求訂正`)
//! before the tax, which is recomputed; the CSV exports and the agencies' next statements follow.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use ecl_proto::commercial::{self as proto, CorrectBill};

use crate::errors::gql;
use crate::schema::billing::{Bill, Currency};
use crate::schema::common::RequestState;
use crate::schema::scalars::{DateTime, Decimal, Month};

/// A correction of a FIXED bill.
#[derive(InputObject)]
pub struct BillCorrectionInput {
    /// In the bill's currency, not zero: negative credits the customer, positive charges more.
    /// Rounded toward zero to the currency's unit; the bill's total before tax never goes below
    /// zero.
    pub amount: Decimal,
    /// Why (1–200 characters, trimmed); shown on the bill's correction line.
    pub reason: String,
}

#[derive(SimpleObject)]
pub struct BillCorrection {
    pub id: ID,
    pub contract_id: ID,
    pub month: Month,
    /// As applied: rounded toward zero to the currency's unit.
    pub amount: Decimal,
    pub currency: Currency,
    pub reason: String,
    pub created_at: DateTime,
}

/// A correction made, and the bill with every correction so far.
#[derive(SimpleObject)]
pub struct CorrectedBill {
    pub correction: BillCorrection,
    pub bill: Bill,
}

impl CorrectedBill {
    fn try_from(r: proto::CorrectedBill) -> async_graphql::Result<Self> {
        let c = r.correction;
        Ok(CorrectedBill {
            correction: BillCorrection {
                id: c.id.into(),
                contract_id: c.contract_id.into(),
                month: c.month.into(),
                amount: c.amount.into(),
                currency: c.currency.into(),
                reason: c.reason,
                created_at: c.created_at.into(),
            },
            bill: Bill::try_from(r.bill)?,
        })
    }
}

#[derive(Default)]
pub struct CorrectionMutation;

#[Object]
impl CorrectionMutation {
    /// Corrects a contract's FIXED bill of a closed month (operators): a credit note (negative
    /// `amount`) or an additional charge (positive). Applied after the bill's coupons and SLA
    /// credits, before the tax, which is recomputed; a later statement of the referring agency
    /// claws back (or tops up) its commission. Refused with nothing stored: `FORBIDDEN` for
    /// anyone but an operator, `CONFLICT` for a month not closed or a contract with no bill in
    /// it, `INVALID_INPUT` (with `field`) for a zero amount, a bad reason, or a credit that would
    /// take the bill's total before tax below zero.
    async fn correct_bill(
        &self,
        ctx: &Context<'_>,
        contract_id: ID,
        month: Month,
        input: BillCorrectionInput,
    ) -> async_graphql::Result<CorrectedBill> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        let month = ecl_kernel::Month::try_from(month).map_err(gql)?;
        let r = s
            .call(&CorrectBill {
                contract_id: contract_id.0,
                month,
                input: proto::BillCorrectionInput {
                    amount: input.amount.into(),
                    reason: input.reason,
                },
            })
            .await?;
        CorrectedBill::try_from(r)
    }
}
