//! What every ECL process shares: errors with stable codes, ids, the principal, clocks, config and
//! telemetry. No I/O beyond reading config and `/proc`.

pub mod clock;
pub mod config;
pub mod error;
pub mod ids;
pub mod month;
pub mod principal;
pub mod telemetry;
pub mod validation;

pub use clock::{Clock, ManualClock, SharedClock, SystemClock};
pub use config::{Secret, Settings};
pub use error::{
    AppError, AppResult, ErrorCode, FieldError, OnUnique, UniqueViolation, unique_violation,
};
pub use ids::ContractId;
pub use month::Month;
pub use principal::{Area, KeyCreator, KeyUse, Level, Principal, Role, Scope};
pub use validation::Validation;

/// Validation helpers used by every service's input parsing.
pub mod validate {
    use crate::AppError;

    /// Trimmed, non-empty, at most `max` characters.
    pub fn text(field: &str, value: &str, max: usize) -> Result<String, AppError> {
        let v = value.trim();
        if v.is_empty() {
            return Err(AppError::invalid(
                field,
                format!("{field} must not be empty"),
            ));
        }
        if v.chars().count() > max {
            return Err(AppError::invalid(
                field,
                format!("{field} must be at most {max} characters"),
            ));
        }
        Ok(v.to_string())
    }

    /// A pragmatic e-mail check (one `@`, a dotted domain, no spaces); delivery proves the rest.
    pub fn email(field: &str, value: &str) -> Result<String, AppError> {
        let v = value.trim();
        let ok = v.len() <= 254
            && !v.contains(char::is_whitespace)
            && v.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            });
        if ok {
            Ok(v.to_string())
        } else {
            Err(AppError::invalid(
                field,
                format!("{field} is not a valid e-mail address"),
            ))
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn text_and_email() {
            assert_eq!(text("name", "  Acme ", 10).unwrap(), "Acme");
            assert!(text("name", "   ", 10).is_err());
            assert!(text("name", "abcdefghijk", 10).is_err());
            assert!(email("email", "a@b.co").is_ok());
            for bad in ["a@b", "@b.co", "a b@c.de", "a@@b.co", "a@.b", "plain"] {
                assert!(email("email", bad).is_err(), "{bad}");
            }
        }
    }
}
