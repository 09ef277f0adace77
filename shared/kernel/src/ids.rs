//! Identifier newtypes that validate on construction.

use crate::error::AppError;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A contract id: `econ` followed by exactly ten digits (SPEC §2).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ContractId(String);

impl ContractId {
    pub const PREFIX: &'static str = "econ";

    pub fn parse(s: &str) -> Result<Self, AppError> {
        let digits = s.strip_prefix(Self::PREFIX).unwrap_or("");
        if digits.len() == 10 && digits.bytes().all(|b| b.is_ascii_digit()) {
            Ok(ContractId(s.to_string()))
        } else {
            Err(AppError::invalid(
                "id",
                format!("malformed contract id {s:?}: expected econ + 10 digits"),
            ))
        }
    }

    /// A fresh random id; callers retry on the (unlikely) uniqueness conflict.
    pub fn generate() -> Self {
        let n: u64 = rand::rng().random_range(0..10_000_000_000);
        ContractId(format!("{}{n:010}", Self::PREFIX))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ContractId {
    type Error = AppError;
    fn try_from(s: String) -> Result<Self, AppError> {
        ContractId::parse(&s)
    }
}
impl From<ContractId> for String {
    fn from(c: ContractId) -> String {
        c.0
    }
}
impl fmt::Display for ContractId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Ids of other entities (users, tenants, keys…) are UUIDv7 strings with a type prefix, so a user id
/// pasted where a tenant id belongs is rejected at once.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}

/// Validates an id made by [`new_id`] with the given prefix.
pub fn parse_id(field: &str, prefix: &str, s: &str) -> Result<String, AppError> {
    let ok = s
        .strip_prefix(prefix)
        .and_then(|r| r.strip_prefix('_'))
        .is_some_and(|r| r.len() == 32 && r.bytes().all(|b| b.is_ascii_hexdigit()));
    if ok {
        Ok(s.to_string())
    } else {
        Err(AppError::invalid(field, format!("malformed {field} {s:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_ids_are_econ_and_ten_digits() {
        assert!(ContractId::parse("econ0123456789").is_ok());
        for bad in [
            "econ123",
            "econ01234567890",
            "ECON0123456789",
            "econ012345678x",
            "",
            "0123456789",
        ] {
            let e = ContractId::parse(bad).unwrap_err();
            assert_eq!(e.code, crate::ErrorCode::InvalidInput, "{bad}");
        }
        for _ in 0..100 {
            let id = ContractId::generate();
            assert_eq!(ContractId::parse(id.as_str()).unwrap(), id);
        }
    }

    #[test]
    fn prefixed_ids_round_trip() {
        let id = new_id("usr");
        assert_eq!(parse_id("userId", "usr", &id).unwrap(), id);
        assert!(parse_id("userId", "ten", &id).is_err());
        assert!(parse_id("userId", "usr", "usr_xyz").is_err());
    }
}
