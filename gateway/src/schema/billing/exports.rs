//! The CSV export route (SPEC §6, seed 002): `GET /exports/bills/{contractId}/{YYYY-MM}.csv`,
//! the summary, detail and legacy files of a wholesale or end-user bill.

use axum::{
    extract::{Path, Query},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use ecl_bus::{Bus, CallCtx};
use ecl_kernel::AppError;
use ecl_proto::billing::{ExportBill, ExportFormat};
use std::time::Duration;

#[derive(serde::Deserialize)]
pub struct ExportQuery {
    format: Option<String>,
    /// `end-user`: the child's end-user bill (with provenance columns); default `wholesale`.
    price: Option<String>,
}

fn export_error(e: AppError) -> Response {
    let status = StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    let body = serde_json::json!({"error": {"code": e.code.as_str(), "message": e.message}});
    (status, axum::Json(body)).into_response()
}

/// `GET /exports/bills/{contractId}/{YYYY-MM}.csv?format=summary|detail|legacy`, authenticated
/// like GraphQL. Errors are JSON `{"error": {"code", "message"}}` with the code's HTTP status.
pub async fn export(
    auth: &crate::auth::Auth,
    bus: &Bus,
    timeout: Duration,
    headers: &HeaderMap,
    Path((contract_id, file)): Path<(String, String)>,
    Query(q): Query<ExportQuery>,
) -> Response {
    // The same credentials as GraphQL: a bearer token or an API key (with its rate limit).
    let principal = match auth.resolve(headers).await {
        Ok(ecl_kernel::Principal::Anonymous) => return export_error(AppError::unauthenticated()),
        Ok(p) => p,
        Err(e) => return export_error(e),
    };
    let Some(month) = file.strip_suffix(".csv") else {
        return export_error(AppError::invalid("month", "the file is named YYYY-MM.csv"));
    };
    let month = match ecl_kernel::Month::parse(month) {
        Ok(m) => m,
        Err(e) => return export_error(e),
    };
    let format = match q.format.as_deref().unwrap_or("summary") {
        "summary" => ExportFormat::Summary,
        "detail" => ExportFormat::Detail,
        "legacy" => ExportFormat::Legacy,
        other => {
            return export_error(AppError::invalid(
                "format",
                format!("format {other:?} is not summary, detail or legacy"),
            ));
        }
    };
    let call = CallCtx::new(principal, timeout);
    let file = match q.price.as_deref().unwrap_or("wholesale") {
        "wholesale" => {
            let req = ExportBill {
                contract_id,
                month,
                format,
            };
            bus.call(&call, &req).await
        }
        "end-user" => {
            let req = ecl_proto::commercial::ExportEndUserBill {
                contract_id,
                month,
                format,
            };
            bus.call(&call, &req).await
        }
        other => {
            return export_error(AppError::invalid(
                "price",
                format!("price {other:?} is not wholesale or end-user"),
            ));
        }
    };
    match file {
        Ok(f) => (
            [
                (header::CONTENT_TYPE, f.content_type),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{}\"", f.filename),
                ),
            ],
            f.body,
        )
            .into_response(),
        Err(e) => export_error(e),
    }
}
