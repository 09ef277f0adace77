//! `ExportBill`: a visible contract's bill of a month as one of the three CSV files (for a
//! child's own users, the bill their partner shows them: see `commercial::serve::visibility`).

use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult};
use ecl_proto::billing::{ExportBill, ExportFile, ExportFormat};

use super::{LegacyOptions, detail_csv, legacy_csv, summary_csv};
use crate::Billing;

impl Billing {
    pub(crate) async fn export(&self, ctx: &CallCtx, req: ExportBill) -> AppResult<ExportFile> {
        let m = req.month;
        let c = self
            .visible(ctx, vec![req.contract_id.clone()])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| AppError::not_found(format!("contract {}", req.contract_id)))?;
        // a child's own users get what their partner shows them (the end-user bill by default)
        let bill = self
            .shown_bills(ctx, &[(&c, m)])
            .await?
            .pop()
            .flatten()
            .ok_or_else(|| {
                AppError::forbidden(format!(
                    "the partner of {} does not show its users their bills",
                    c.id
                ))
            })?;
        let (suffix, body) = match req.format {
            ExportFormat::Summary => ("summary", summary_csv(&bill)),
            ExportFormat::Detail => ("detail", detail_csv(&bill)),
            ExportFormat::Legacy => (
                "legacy",
                legacy_csv(
                    &bill,
                    &LegacyOptions {
                        created_at: self.clock.now(),
                        // One billing account per contract: its number is the contract id and
                        // the account's 5-digit sequence (seed 002 shows `…00001`).
                        billing_customer_number: Some(format!("{}00001", c.id)),
                    },
                ),
            ),
        };
        Ok(ExportFile {
            filename: format!("{}_{m}_{suffix}.csv", c.id),
            content_type: "text/csv; charset=utf-8".into(),
            body,
        })
    }
}
