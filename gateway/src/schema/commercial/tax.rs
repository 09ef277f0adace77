//! A non-JPY contract's tax setting: `setTaxSetting` (operators).

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use ecl_proto::commercial::SetTaxSetting;

use crate::schema::billing::Currency;
use crate::schema::common::RequestState;
use crate::schema::scalars::Decimal;

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "ecl_proto::commercial::TaxKind")]
pub enum TaxKind {
    /// Taxed at `percent`.
    Rate,
    /// No tax.
    Exempt,
}

/// A non-JPY contract's tax: a RATE (`percent`) or EXEMPT. `currency` is the contract's billing
/// currency (JPY contracts follow the consumption-tax table and are refused).
#[derive(InputObject)]
pub struct TaxSettingInput {
    pub currency: Currency,
    pub kind: TaxKind,
    pub percent: Option<Decimal>,
}

#[derive(SimpleObject)]
pub struct TaxSetting {
    pub contract_id: ID,
    pub kind: TaxKind,
    pub percent: Option<Decimal>,
}

#[derive(Default)]
pub struct TaxMutation;

#[Object]
impl TaxMutation {
    /// A non-JPY contract's tax setting (operators).
    async fn set_tax_setting(
        &self,
        ctx: &Context<'_>,
        contract_id: ID,
        input: TaxSettingInput,
    ) -> async_graphql::Result<TaxSetting> {
        let s = RequestState::of(ctx);
        s.require_auth()?;
        let t = s
            .call(&SetTaxSetting {
                contract_id: contract_id.0,
                currency: input.currency.into(),
                kind: input.kind.into(),
                percent: input.percent.map(Into::into),
            })
            .await?;
        Ok(TaxSetting {
            contract_id: t.contract_id.into(),
            kind: t.kind.into(),
            percent: t.percent.map(Into::into),
        })
    }
}
