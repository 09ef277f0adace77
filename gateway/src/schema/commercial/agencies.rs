//! Agencies: `createAgency` (operators), the referral of `createDirectContract(referredBy)`, and
//! an agency's commission statements (`Contract.commissions`).

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use ecl_proto::{
    PageArgs,
    commercial::{self as proto, ListCommissions, SetAgreement, SetReferral},
    contract::ContractKind,
};

use crate::schema::billing::Currency;
use crate::schema::common::{PagedBatch, RequestState, load_page};
use crate::schema::contract::{Contract, ContractInput};
use crate::schema::scalars::{Decimal, Month};

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "ecl_proto::commercial::CommissionKind")]
pub enum CommissionKind {
    /// A referred contract's FIXED bill × the rate.
    Commission,
    /// A later credit or correction of a commissioned bill, taken back.
    Clawback,
}

/// An agency contract and its agreement.
#[derive(InputObject)]
pub struct AgencyInput {
    pub contract: ContractInput,
    /// Commission, percent of each referred FIXED bill's total before tax.
    pub rate_percent: Decimal,
    /// Months of each referral that earn a commission; null = all.
    pub months_per_referral: Option<u32>,
}

#[derive(SimpleObject)]
pub struct Agreement {
    pub agency_id: ID,
    pub rate_percent: Decimal,
    pub months_per_referral: Option<u32>,
}

#[derive(SimpleObject)]
pub struct Agency {
    pub contract: Contract,
    pub agreement: Agreement,
}

/// A referred contract's line: its name and amounts only.
#[derive(SimpleObject)]
pub struct CommissionLine {
    pub kind: CommissionKind,
    pub contract_id: ID,
    pub contract_name: String,
    pub bill_month: Month,
    pub currency: Currency,
    /// The pre-tax total commissioned (for a clawback: its change).
    pub base: Decimal,
    pub commission: Decimal,
}

#[derive(SimpleObject)]
pub struct CommissionTotal {
    pub currency: Currency,
    pub amount: Decimal,
}

#[derive(SimpleObject)]
pub struct CommissionStatement {
    pub agency_id: ID,
    pub month: Month,
    pub rate_percent: Decimal,
    pub lines: Vec<CommissionLine>,
    pub totals: Vec<CommissionTotal>,
}

impl CommissionStatement {
    fn try_from(s: proto::CommissionStatementView) -> async_graphql::Result<Self> {
        let lines = s
            .lines
            .into_iter()
            .map(|l| {
                Ok(CommissionLine {
                    kind: l.kind.into(),
                    contract_id: l.contract_id.into(),
                    contract_name: l.contract_name,
                    bill_month: l.bill_month.into(),
                    currency: l.currency.into(),
                    base: l.base.into(),
                    commission: l.commission.into(),
                })
            })
            .collect::<async_graphql::Result<_>>()?;
        let totals = s
            .totals
            .into_iter()
            .map(|(currency, amount)| {
                Ok(CommissionTotal {
                    currency: currency.into(),
                    amount: amount.into(),
                })
            })
            .collect::<async_graphql::Result<_>>()?;
        Ok(CommissionStatement {
            agency_id: s.agency_id.into(),
            month: s.month.into(),
            rate_percent: s.rate_percent.into(),
            lines,
            totals,
        })
    }
}

crate::connection!(
    CommissionStatementConnection,
    CommissionStatementEdge,
    CommissionStatement
);

impl PagedBatch for ListCommissions {
    type Item = proto::CommissionStatementView;
    fn new(contract_ids: Vec<String>, page: PageArgs) -> Self {
        Self { contract_ids, page }
    }
}

/// `Contract.commissions(first, after)`: an agency's statements, newest first (one request for
/// every contract of the query level).
pub async fn commissions_of(
    ctx: &Context<'_>,
    contract_id: &str,
    page: PageArgs,
) -> async_graphql::Result<CommissionStatementConnection> {
    RequestState::of(ctx).require_auth()?;
    let page = load_page::<ListCommissions>(ctx, contract_id, page).await?;
    CommissionStatementConnection::try_from_page(page, CommissionStatement::try_from)
}

/// Checks, before a direct contract is created, that the agency it is referred by exists (so a
/// bad `referredBy` creates nothing); [`record_referral`] records it after.
pub async fn check_referral(
    ctx: &Context<'_>,
    referred_by: Option<&ID>,
) -> async_graphql::Result<()> {
    if let Some(agency) = referred_by {
        RequestState::of(ctx)
            .call(&SetReferral {
                contract_id: None,
                contract_name: String::new(),
                agency_id: agency.to_string(),
            })
            .await?;
    }
    Ok(())
}

pub async fn record_referral(
    ctx: &Context<'_>,
    referred_by: Option<&ID>,
    contract: &ecl_proto::contract::ContractView,
) -> async_graphql::Result<()> {
    if let Some(agency) = referred_by {
        RequestState::of(ctx)
            .call(&SetReferral {
                contract_id: Some(contract.id.clone()),
                contract_name: contract.name.clone(),
                agency_id: agency.to_string(),
            })
            .await?;
    }
    Ok(())
}

#[derive(Default)]
pub struct AgencyMutation;

#[Object]
impl AgencyMutation {
    /// An agency contract and its agreement (operators).
    async fn create_agency(
        &self,
        ctx: &Context<'_>,
        input: AgencyInput,
    ) -> async_graphql::Result<Agency> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        if !s.call.principal.is_operator() {
            return Err(crate::errors::gql(ecl_kernel::AppError::forbidden(
                "only operators create agencies",
            )));
        }
        let terms = SetAgreement {
            agency_id: None,
            rate_percent: input.rate_percent.into(),
            months_per_referral: input.months_per_referral,
        };
        // the terms first: bad terms create no contract
        s.call(&terms).await?;
        let contract = s
            .call(&crate::schema::contract::create(
                ContractKind::Direct,
                None,
                input.contract,
            ))
            .await?;
        let a = s
            .call(&SetAgreement {
                agency_id: Some(contract.id.clone()),
                ..terms
            })
            .await?;
        Ok(Agency {
            contract: Contract(contract),
            agreement: Agreement {
                agency_id: a.agency_id.into(),
                rate_percent: a.rate_percent.into(),
                months_per_referral: a.months_per_referral,
            },
        })
    }
}
