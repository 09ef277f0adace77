//! Which contracts a caller may see is the contract service's call (`GetContracts` with the
//! caller's context); whether they may see usage and bills is `Principal::may_see_usage`.

use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult, Principal};
use ecl_proto::contract::{ContractView, GetContracts};

use crate::Billing;

impl Billing {
    /// The contracts of `ids` the caller may see and whose usage they may see.
    pub(crate) async fn visible(
        &self,
        ctx: &CallCtx,
        ids: Vec<String>,
    ) -> AppResult<Vec<ContractView>> {
        if matches!(ctx.principal, Principal::Anonymous) {
            return Err(AppError::unauthenticated());
        }
        if !ctx.principal.may_see_usage() {
            return Err(AppError::forbidden(
                "your role does not show usage and bills",
            ));
        }
        self.bus.call(ctx, &GetContracts { ids }).await
    }
}
