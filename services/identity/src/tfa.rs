//! Two-factor authentication with TOTP (RFC 6238: SHA-1, 6 digits, 30 s steps, ±1 step), usable
//! with Google Authenticator; one-time recovery codes; the sign-in challenge.
//!
//! Replay: a code accepted once is refused afterwards, across replicas — the accepted step is
//! claimed with an atomic set-if-absent in the shared cache (Redis when distributed).

use crate::entity::totp;
use ecl_kernel::{AppError, AppResult};
use rand::Rng;
use sha2::{Digest, Sha256};
use totp_rs::{Secret, Totp};

pub const ISSUER: &str = "ECL";
/// How long a sign-in challenge may be answered.
pub const CHALLENGE_TTL_SECS: i64 = 5 * 60;
pub const RECOVERY_CODES: usize = 10;

pub fn totp_for(secret_b32: &str, account: &str) -> AppResult<Totp> {
    let secret = Secret::try_from_base32(secret_b32).map_err(AppError::internal)?;
    totp_rs::Builder::new()
        .with_secret(secret)
        .with_account_name(account)
        .with_issuer(Some(ISSUER))
        .build()
        .map_err(AppError::internal)
}

pub fn new_secret() -> String {
    Secret::generate().to_base32()
}

/// The step a code matches at `now` (±1 step), if any.
pub fn matching_step(
    row: &totp::Model,
    account: &str,
    code: &str,
    now: i64,
) -> AppResult<Option<u64>> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    Ok(totp_for(&row.secret, account)?.check(code, now.max(0) as u64))
}

pub fn hash_code(code: &str) -> String {
    let normalized: String = code
        .trim()
        .to_ascii_uppercase()
        .chars()
        .filter(|c| *c != '-')
        .collect();
    Sha256::digest(normalized.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Ten fresh recovery codes (`XXXXX-XXXXX`, 50 bits each) and their hashes.
pub fn recovery_codes() -> (Vec<String>, Vec<String>) {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    let codes: Vec<String> = (0..RECOVERY_CODES)
        .map(|_| {
            let mut s: String = (0..10)
                .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
                .collect();
            s.insert(5, '-');
            s
        })
        .collect();
    let hashes = codes.iter().map(|c| hash_code(c)).collect();
    (codes, hashes)
}

/// A random, URL-safe challenge id.
pub fn challenge_id() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_sha1_vector() {
        // RFC 6238 appendix B, SHA-1, T = 59 s → 94287082 (8 digits); 6 digits → 287082.
        let secret = Secret::from(b"12345678901234567890".to_vec()).to_base32();
        let t = totp_for(&secret, "a@example.com").unwrap();
        assert_eq!(t.generate(59).to_string(), "287082");
        let row = totp::Model {
            user_id: "u".into(),
            secret,
            enabled: true,
            recovery_hashes: "[]".into(),
            created_at: 0,
        };
        assert_eq!(
            matching_step(&row, "a@example.com", "287082", 59).unwrap(),
            Some(1)
        );
        assert_eq!(
            matching_step(&row, "a@example.com", "287082", 59 + 30).unwrap(),
            Some(1),
            "one step of skew"
        );
        assert_eq!(
            matching_step(&row, "a@example.com", "287082", 59 + 60).unwrap(),
            None,
            "two steps: refused"
        );
        assert_eq!(
            matching_step(&row, "a@example.com", "28708x", 59).unwrap(),
            None
        );
    }

    #[test]
    fn recovery_codes_are_distinct_and_hash_normalized() {
        let (codes, hashes) = recovery_codes();
        assert_eq!(codes.len(), 10);
        let unique: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), 10);
        assert_eq!(hash_code(&codes[0].to_lowercase()), hashes[0]);
        assert_eq!(hash_code(&codes[0].replace('-', "")), hashes[0]);
    }
}
