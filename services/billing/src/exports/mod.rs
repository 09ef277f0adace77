//! The three CSV renderings of a bill (seed 002): summary per workspace, detail per line, and the
//! legacy tiered record format ("usage fee format before October 2021"), and the `ExportBill`
//! use case that serves them.
//!
//! Output is UTF-8 with `\n` line ends. The summary and detail files quote a field only when it
//! needs it; the legacy file quotes every text field and leaves numbers (line number, record
//! type, tier, total line count) bare, exactly as seed 002's example.

mod csv;
mod detail;
mod export_bill;
mod legacy;
mod summary;

pub use detail::{DETAIL_COLUMNS, detail_csv};
pub use legacy::{LegacyOptions, legacy_csv, record_type};
pub use summary::{SUMMARY_COLUMNS, summary_csv};

#[cfg(test)]
mod tests;
