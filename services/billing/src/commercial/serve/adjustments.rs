//! The adjustments of a batch of bills, read once per table: the coupons in force for each
//! (contract, month) and the SLA credits landing on it. The order they apply in is
//! [`crate::commercial::adjustments::adjust`]'s.

use ecl_kernel::AppResult;

use crate::Billing;
use crate::bill::Bill;
use crate::commercial::adjustments::{Pending, adjust};
use crate::rating::Month;

impl Billing {
    /// What adjusts each (contract, month) bill of a batch, in order: one read of the coupon
    /// registrations and one of the SLA credits, whatever the batch's size.
    pub(crate) async fn pending_for(&self, pairs: &[(&str, Month)]) -> AppResult<Vec<Pending>> {
        let ids: Vec<&str> = pairs.iter().map(|(c, _)| *c).collect();
        let registrations = self.registrations_for(&ids).await?;
        let mut credits = self.credits_for(pairs).await?;
        Ok(pairs
            .iter()
            .map(|(c, m)| Pending {
                coupons: registrations
                    .get(*c)
                    .into_iter()
                    .flatten()
                    .filter(|r| r.registration.applies(*m))
                    .map(|r| r.coupon.clone())
                    .collect(),
                credits: credits.remove(&(c.to_string(), *m)).unwrap_or_default(),
            })
            .collect())
    }

    /// A batch of bills with their adjustments, in order.
    pub(crate) async fn adjusted_all(&self, bills: Vec<Bill>) -> AppResult<Vec<Bill>> {
        let pairs: Vec<(&str, Month)> = bills
            .iter()
            .map(|b| (b.header.contract.contract_id.as_str(), b.header.month))
            .collect();
        let pending = self.pending_for(&pairs).await?;
        Ok(bills
            .into_iter()
            .zip(pending)
            .map(|(b, p)| adjust(b, &p))
            .collect())
    }
}
