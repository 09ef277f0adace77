//! Cursor pagination shared by every list (Relay connections at the gateway).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use ecl_kernel::AppError;
use serde::{Deserialize, Serialize};

pub const DEFAULT_PAGE: u32 = 20;
pub const MAX_PAGE: u32 = 100;

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PageArgs {
    pub first: Option<u32>,
    pub after: Option<String>,
}

impl PageArgs {
    /// The page size, validated: 0 < first ≤ 100 (default 20).
    pub fn limit(&self) -> Result<u32, AppError> {
        match self.first {
            None => Ok(DEFAULT_PAGE),
            Some(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
            Some(n) => Err(AppError::invalid(
                "first",
                format!("first must be between 1 and {MAX_PAGE}, got {n}"),
            )),
        }
    }

    /// The decoded position after which the page starts.
    pub fn after_key(&self) -> Result<Option<Cursor>, AppError> {
        self.after.as_deref().map(Cursor::decode).transpose()
    }
}

/// A position in a list ordered by (creation time, id): stable under inserts, opaque to clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub created_at_us: i64,
    pub id: String,
}

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}:{}", self.created_at_us, self.id))
    }
    pub fn decode(s: &str) -> Result<Cursor, AppError> {
        let bad = || AppError::invalid("after", "malformed cursor");
        let raw = URL_SAFE_NO_PAD.decode(s).map_err(|_| bad())?;
        let raw = String::from_utf8(raw).map_err(|_| bad())?;
        let (ts, id) = raw.split_once(':').ok_or_else(bad)?;
        Ok(Cursor {
            created_at_us: ts.parse().map_err(|_| bad())?,
            id: id.to_string(),
        })
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    /// (cursor, item) in list order.
    pub edges: Vec<(String, T)>,
    pub has_next_page: bool,
    pub total_count: u64,
}

impl<T> Page<T> {
    pub fn empty() -> Self {
        Page {
            edges: Vec::new(),
            has_next_page: false,
            total_count: 0,
        }
    }
    pub fn end_cursor(&self) -> Option<&str> {
        self.edges.last().map(|(c, _)| c.as_str())
    }
    /// The same page with each item mapped, leaving out those `f` drops (e.g. ids resolved to
    /// rows the caller may see); cursors and counts stay.
    pub fn filter_map<U>(self, mut f: impl FnMut(T) -> Option<U>) -> Page<U> {
        Page {
            edges: self
                .edges
                .into_iter()
                .filter_map(|(cursor, item)| f(item).map(|u| (cursor, u)))
                .collect(),
            has_next_page: self.has_next_page,
            total_count: self.total_count,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_invalid_input() {
        let c = Cursor {
            created_at_us: 1_700_000_000_000_000,
            id: "econ0000000001".into(),
        };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        for bad in ["!!", "bm9jb2xvbg", ""] {
            assert_eq!(
                Cursor::decode(bad).unwrap_err().code,
                ecl_kernel::ErrorCode::InvalidInput
            );
        }
    }

    #[test]
    fn page_size_is_bounded() {
        assert_eq!(PageArgs::default().limit().unwrap(), DEFAULT_PAGE);
        assert!(
            PageArgs {
                first: Some(0),
                after: None
            }
            .limit()
            .is_err()
        );
        assert!(
            PageArgs {
                first: Some(101),
                after: None
            }
            .limit()
            .is_err()
        );
        assert_eq!(
            PageArgs {
                first: Some(100),
                after: None
            }
            .limit()
            .unwrap(),
            100
        );
    }
}
