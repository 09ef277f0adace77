//! Cursor pagination shared by every list (Relay connections at the gateway).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use ecl_kernel::AppError;
use serde::{Deserialize, Serialize};

pub const DEFAULT_PAGE: u32 = 20;
pub const MAX_PAGE: u32 = 100;

/// Relay's page arguments: `first`/`after` read forward, `last`/`before` backward.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PageArgs {
    pub first: Option<u32>,
    pub after: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// Nobody will read the page's `total_count` (the query does not select `totalCount`): the
    /// list may leave it at 0 and spare the `COUNT` statement. Absent on the wire means counted.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub skip_total: bool,
}

/// Which rows a page holds, validated from [`PageArgs`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Window {
    /// The first `limit` rows after `after` (from the start without it).
    Forward { limit: u32, after: Option<Cursor> },
    /// The last `limit` rows before `before` (up to the end without it).
    Backward { limit: u32, before: Option<Cursor> },
}

impl PageArgs {
    /// Forward arguments (`first`, `after`), as most callers inside the platform page.
    pub fn forward(first: Option<u32>, after: Option<String>) -> Self {
        PageArgs {
            first,
            after,
            ..PageArgs::default()
        }
    }

    /// The window the arguments name. One direction per page: `first`/`after` or
    /// `last`/`before` (Relay lets a server refuse the mixtures, whose meaning clients rarely
    /// agree on); every bad argument is reported at once, each with its field.
    pub fn window(&self) -> Result<Window, AppError> {
        let mut v = ecl_kernel::Validation::new();
        let backward = self.last.is_some() || self.before.is_some();
        if backward && (self.first.is_some() || self.after.is_some()) {
            let field = if self.last.is_some() {
                "last"
            } else {
                "before"
            };
            v.add(AppError::invalid(
                field,
                "page forward with first/after or backward with last/before, not both",
            ));
        }
        let size = |field: &str, n: Option<u32>| match n {
            None => Ok(DEFAULT_PAGE),
            Some(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
            Some(n) => Err(AppError::invalid(
                field,
                format!("{field} must be between 1 and {MAX_PAGE}, got {n}"),
            )),
        };
        let window = if backward {
            let limit = v.value(size("last", self.last));
            let before = v.value(
                self.before
                    .as_deref()
                    .map(|c| Cursor::decode_field("before", c))
                    .transpose(),
            );
            Window::Backward { limit, before }
        } else {
            let limit = v.value(size("first", self.first));
            let after = v.value(
                self.after
                    .as_deref()
                    .map(|c| Cursor::decode_field("after", c))
                    .transpose(),
            );
            Window::Forward { limit, after }
        };
        v.finish()?;
        Ok(window)
    }

    /// The page size, validated: 0 < first (or last) ≤ 100 (default 20).
    pub fn limit(&self) -> Result<u32, AppError> {
        Ok(match self.window()? {
            Window::Forward { limit, .. } | Window::Backward { limit, .. } => limit,
        })
    }
}

/// One page of a list a service holds in memory (already in the list's order), from
/// [`PageArgs::slice`]: the page's items and Relay's flags, as the stored lists set them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slice<T> {
    pub items: Vec<T>,
    /// Rows follow the page.
    pub has_next_page: bool,
    /// Rows precede the page.
    pub has_previous_page: bool,
    pub total_count: u64,
}

impl PageArgs {
    /// The page these arguments name over `items`, forward (`first`/`after`) or backward
    /// (`last`/`before`), for the lists a service orders in memory (a contract's bills by month,
    /// the price list, price rules, commission statements). `key` reads a cursor into the list's
    /// own key (naming its argument, `after` or `before`, when it is not one); `position` places
    /// an item against such a key in the list's order (`Less`: the item comes before it). A
    /// cursor need not name an item still in the list: the page starts (or ends) where it would be.
    pub fn slice<T, K>(
        &self,
        items: Vec<T>,
        key: impl Fn(&'static str, &Cursor) -> Result<K, AppError>,
        position: impl Fn(&T, &K) -> std::cmp::Ordering,
    ) -> Result<Slice<T>, AppError> {
        use std::cmp::Ordering::{Greater, Less};
        let len = items.len();
        let (start, end) = match self.window()? {
            Window::Forward { limit, after } => {
                let start = match after {
                    Some(c) => {
                        let k = key("after", &c)?;
                        items.partition_point(|t| position(t, &k) != Greater)
                    }
                    None => 0,
                };
                (start, len.min(start.saturating_add(limit as usize)))
            }
            Window::Backward { limit, before } => {
                let end = match before {
                    Some(c) => {
                        let k = key("before", &c)?;
                        items.partition_point(|t| position(t, &k) == Less)
                    }
                    None => len,
                };
                (end.saturating_sub(limit as usize), end)
            }
        };
        Ok(Slice {
            items: items.into_iter().skip(start).take(end - start).collect(),
            has_next_page: end < len,
            has_previous_page: start > 0,
            total_count: len as u64,
        })
    }
}

/// A position in a list ordered by (creation time, id): stable under inserts, opaque to clients.
///
/// A page's edges carry it as it is and it is encoded only where a client reads it (the
/// gateway's `cursor`, `startCursor`, `endCursor`): the walk's 800 edges are mostly shown
/// without their cursors. On the wire it is the encoded string, as it always was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub created_at_us: i64,
    pub id: String,
}

impl Serialize for Cursor {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.encode())
    }
}

impl<'de> Deserialize<'de> for Cursor {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Cursor::decode_field("cursor", &s).map_err(serde::de::Error::custom)
    }
}

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}:{}", self.created_at_us, self.id))
    }
    pub fn decode(s: &str) -> Result<Cursor, AppError> {
        Self::decode_field("after", s)
    }

    /// As [`Cursor::decode`], naming `field` (`after`, `before`) when malformed.
    pub fn decode_field(field: &str, s: &str) -> Result<Cursor, AppError> {
        let bad = || AppError::invalid(field, "malformed cursor");
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
    pub edges: Vec<(Cursor, T)>,
    /// Rows follow the last edge.
    pub has_next_page: bool,
    /// Rows precede the first edge.
    #[serde(default)]
    pub has_previous_page: bool,
    pub total_count: u64,
}

impl<T> Page<T> {
    pub fn empty() -> Self {
        Page {
            edges: Vec::new(),
            has_next_page: false,
            has_previous_page: false,
            total_count: 0,
        }
    }
    pub fn end_cursor(&self) -> Option<&Cursor> {
        self.edges.last().map(|(c, _)| c)
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
            has_previous_page: self.has_previous_page,
            total_count: self.total_count,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `slice` pages a list held in memory both ways, with Relay's flags: walking forward and
    /// then backward from the end visits the same items, and a cursor that no longer names an
    /// item still places the page.
    #[test]
    fn slices_page_forward_and_backward() {
        let months: Vec<u32> = vec![9, 7, 5, 3, 1]; // newest first
        let key = |field: &'static str, c: &Cursor| {
            c.id.parse::<u32>()
                .map_err(|_| AppError::invalid(field, "not a month"))
        };
        let pos = |m: &u32, k: &u32| k.cmp(m); // descending
        let cur = |m: u32| {
            Cursor {
                created_at_us: 0,
                id: m.to_string(),
            }
            .encode()
        };
        let fwd = |first, after: Option<u32>| {
            PageArgs::forward(Some(first), after.map(cur))
                .slice(months.clone(), key, pos)
                .unwrap()
        };
        let back = |last, before: Option<u32>| {
            PageArgs {
                last: Some(last),
                before: before.map(cur),
                ..PageArgs::default()
            }
            .slice(months.clone(), key, pos)
            .unwrap()
        };
        let p = fwd(2, None);
        assert_eq!(
            (p.items, p.has_next_page, p.has_previous_page, p.total_count),
            (vec![9, 7], true, false, 5)
        );
        let p = fwd(2, Some(7));
        assert_eq!(
            (p.items, p.has_next_page, p.has_previous_page),
            (vec![5, 3], true, true)
        );
        let p = fwd(2, Some(3));
        assert_eq!(
            (p.items, p.has_next_page, p.has_previous_page),
            (vec![1], false, true)
        );
        let p = back(2, None);
        assert_eq!(
            (p.items, p.has_next_page, p.has_previous_page),
            (vec![3, 1], false, true)
        );
        let p = back(2, Some(3));
        assert_eq!(
            (p.items, p.has_next_page, p.has_previous_page),
            (vec![7, 5], true, true)
        );
        let p = back(5, Some(7));
        assert_eq!(
            (p.items, p.has_next_page, p.has_previous_page),
            (vec![9], true, false)
        );
        // a month no longer listed (6) still places the page between 7 and 5
        let p = fwd(1, Some(6));
        assert_eq!(p.items, vec![5]);
        let p = back(1, Some(6));
        assert_eq!(p.items, vec![7]);
        // a cursor of another list is refused with its argument's name
        let bad = PageArgs {
            last: Some(1),
            before: Some(
                Cursor {
                    created_at_us: 0,
                    id: "x".into(),
                }
                .encode(),
            ),
            ..PageArgs::default()
        }
        .slice(months.clone(), key, pos)
        .unwrap_err();
        assert_eq!(bad.field.as_deref(), Some("before"));
    }

    /// On the wire (AMQP's JSON) an edge's cursor is its encoded string, as before cursors were
    /// kept decoded in process: services of either build understand each other's pages.
    #[test]
    fn a_page_carries_encoded_cursors_on_the_wire() {
        let c = Cursor {
            created_at_us: 42,
            id: "t1".into(),
        };
        let page = Page {
            edges: vec![(c.clone(), 7u32)],
            has_next_page: true,
            has_previous_page: false,
            total_count: 3,
        };
        let json = serde_json::to_value(&page).unwrap();
        assert_eq!(json["edges"][0][0], serde_json::json!(c.encode()));
        assert_eq!(serde_json::from_value::<Page<u32>>(json).unwrap(), page);
        let bad =
            serde_json::json!({"edges": [["!!", 1]], "has_next_page": false, "total_count": 0});
        assert!(serde_json::from_value::<Page<u32>>(bad).is_err());
    }

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
        assert!(PageArgs::forward(Some(0), None).limit().is_err());
        assert!(PageArgs::forward(Some(101), None).limit().is_err());
        assert_eq!(PageArgs::forward(Some(100), None).limit().unwrap(), 100);
    }

    #[test]
    fn one_direction_per_page_and_every_bad_argument_at_once() {
        let args = |first, after: Option<&str>, last, before: Option<&str>| PageArgs {
            first,
            after: after.map(Into::into),
            last,
            before: before.map(Into::into),
            ..PageArgs::default()
        };
        assert_eq!(
            args(None, None, Some(5), None).window().unwrap(),
            Window::Backward {
                limit: 5,
                before: None
            }
        );
        let mixed = args(Some(2), None, Some(2), None).window().unwrap_err();
        assert_eq!(mixed.code, ecl_kernel::ErrorCode::InvalidInput);
        let many = args(None, None, Some(0), Some("!!")).window().unwrap_err();
        let fields: Vec<_> = many.fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["last", "before"], "{many:?}");
    }
}
