//! Who may claim what, and until when (seed 004 "Service Credit"): a claim is filed within 30 days
//! of the failure-occurred date (UTC), naming the breached service level; a contract with a past
//! due payment is refused; an approved credit lands on a bill at least two months after the
//! approval (approved in March → the May bill).

use chrono::{DateTime, Days, NaiveDate, Utc};
use ecl_kernel::{AppError, AppResult, Month};

/// Claims are accepted up to this many days after the failure date.
pub const CLAIM_DAYS: u64 = 30;
/// The credit goes on the bill this many months after the month of approval.
pub const CREDIT_DELAY_MONTHS: u32 = 2;

/// The last day (UTC) a claim for a failure that occurred at `failure` is accepted.
pub fn deadline(failure: DateTime<Utc>) -> NaiveDate {
    failure.date_naive() + Days::new(CLAIM_DAYS)
}

/// Refuses a claim filed after the deadline or for a contract with an overdue payment; the
/// refusal says why (its code: `INVALID_INPUT` on `breachId` when late, `CONFLICT` when overdue).
pub fn may_file(failure: DateTime<Utc>, now: DateTime<Utc>, overdue: bool) -> AppResult<()> {
    let last = deadline(failure);
    if now.date_naive() > last {
        return Err(AppError::invalid(
            "breachId",
            format!(
                "the claim period ended on {last}: claims are filed within {CLAIM_DAYS} days of the failure"
            ),
        ));
    }
    if overdue {
        return Err(AppError::conflict(
            "the contract has an overdue payment: service credits apply only without past due payments",
        ));
    }
    Ok(())
}

/// The bill month an approval at `approved` lands on.
pub fn credit_month(approved: DateTime<Utc>) -> Month {
    Month::containing(approved).add_months(CREDIT_DELAY_MONTHS as i32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
    }

    #[test]
    fn thirty_days_from_the_failure_date() {
        let failure = t(2026, 2, 12, 22);
        assert_eq!(deadline(failure).to_string(), "2026-03-14");
        assert!(may_file(failure, t(2026, 3, 14, 23), false).is_ok());
        let late = may_file(failure, t(2026, 3, 15, 0), false).unwrap_err();
        assert_eq!(late.code, ecl_kernel::ErrorCode::InvalidInput);
        assert_eq!(late.field.as_deref(), Some("breachId"));
        assert!(late.message.contains("2026-03-14"));
    }

    #[test]
    fn an_overdue_payment_refuses_the_claim() {
        let e = may_file(t(2026, 2, 12, 0), t(2026, 2, 13, 0), true).unwrap_err();
        assert_eq!(e.code, ecl_kernel::ErrorCode::Conflict);
    }

    #[test]
    fn credits_land_two_months_after_approval() {
        assert_eq!(credit_month(t(2026, 3, 31, 23)).to_string(), "2026-05");
        assert_eq!(credit_month(t(2026, 11, 1, 0)).to_string(), "2027-01");
        assert_eq!(credit_month(t(2026, 12, 15, 0)).to_string(), "2027-02");
    }
}
