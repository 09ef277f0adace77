//! Where mails go: an SMTP server through lettre's pooled async transport (`ECL_SMTP_URL`), or —
//! the embedded default without it — one `.eml` file per mail under `<data_dir>/mail/`, so an
//! offline run shows what would have been sent. Each attempt ends in one of three outcomes.

use crate::entity::{delivery, notice};
use ecl_kernel::Settings;
use lettre::{
    AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{
        Mailbox,
        header::{ContentType, HeaderName, HeaderValue},
    },
    transport::smtp::PoolConfig,
};
use std::time::Duration;

/// How long one SMTP exchange may take before it counts as a temporary failure: 10 s, or a
/// quarter of the lease when that is shorter (a send must end well within its claim).
pub fn send_timeout(settings: &Settings) -> Duration {
    Duration::from_secs(10).min(Duration::from_millis(settings.smtp_lease_ms / 4))
}

pub enum Mailer {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    File(AsyncFileTransport<Tokio1Executor>),
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    /// Deferred (4xx) or the server unreachable: try again later.
    Retry(String),
    /// Refused for good (5xx, or an address that cannot be written): never retried.
    Failed(String),
}

impl Mailer {
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Mailer> {
        match &settings.smtp_url {
            Some(url) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
                    .map_err(|e| anyhow::anyhow!("ECL_SMTP_URL is not a usable SMTP URL: {e}"))?
                    .timeout(Some(send_timeout(settings)))
                    .pool_config(
                        PoolConfig::new()
                            .max_size(settings.smtp_concurrency)
                            .idle_timeout(Duration::from_secs(30)),
                    )
                    .build();
                Ok(Mailer::Smtp(transport))
            }
            None => {
                let dir = settings.data_dir.join("mail");
                std::fs::create_dir_all(&dir).map_err(|e| {
                    anyhow::anyhow!("creating the mail directory {}: {e}", dir.display())
                })?;
                tracing::info!(dir = %dir.display(), "no ECL_SMTP_URL: mails are written as .eml files");
                Ok(Mailer::File(AsyncFileTransport::new(dir)))
            }
        }
    }

    pub async fn send(&self, msg: Message) -> Outcome {
        match self {
            Mailer::Smtp(t) => match t.send(msg).await {
                Ok(_) => Outcome::Sent,
                Err(e) if e.is_permanent() => Outcome::Failed(e.to_string()),
                Err(e) => Outcome::Retry(e.to_string()),
            },
            Mailer::File(t) => match t.send(msg).await {
                Ok(_) => Outcome::Sent,
                Err(e) => Outcome::Retry(e.to_string()),
            },
        }
    }
}

fn raw(name: &'static str, value: &str) -> HeaderValue {
    HeaderValue::new(HeaderName::new_from_ascii_str(name), value.to_string())
}

/// The mail of one delivery row: English first, then Japanese when given (UTF-8 throughout;
/// lettre encodes the subject per RFC 2047 and the body as needed). `X-Ecl-*` headers name the
/// notice and the delivery, so a reader (or a test) can tie a mail to its log row.
pub fn message(from: &Mailbox, n: &notice::Model, d: &delivery::Model) -> Result<Message, String> {
    let to: Mailbox = d
        .address
        .parse()
        .map_err(|e| format!("invalid address {:?}: {e}", d.address))?;
    let label = match n.category.as_str() {
        "RELEASE" => "Notice / お知らせ",
        "FAILURE" => "Failure / 故障",
        "MAINTENANCE" => "Maintenance / メンテナンス",
        _ => "Contract / ご契約",
    };
    let subject = match &n.title_ja {
        Some(ja) => format!("[{label}] {} / {ja}", n.title),
        None => format!("[{label}] {}", n.title),
    };
    let mut text = n.body.clone();
    let when = |us: Option<i64>| {
        us.and_then(chrono::DateTime::from_timestamp_micros)
            .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
    };
    if let Some(s) = when(n.starts_at) {
        text.push_str(&format!("\n\nFrom / 開始: {s}"));
    }
    if let Some(e) = when(n.ends_at) {
        text.push_str(&format!("\nUntil / 終了: {e}"));
    }
    if let Some(ja) = &n.body_ja {
        text.push_str("\n\n----\n\n");
        text.push_str(ja);
    }
    if d.cc {
        text.push_str(
            "\n\n(A copy for the partner contract's administrators: it concerns one of your \
             child contracts.)",
        );
    }
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(subject)
        .raw_header(raw("X-Ecl-Notice", &n.id))
        .raw_header(raw("X-Ecl-Delivery", &d.id))
        .raw_header(raw("X-Ecl-Category", &n.category))
        .raw_header(raw("X-Ecl-Copy", if d.cc { "cc" } else { "to" }))
        .header(ContentType::TEXT_PLAIN)
        .body(text)
        .map_err(|e| format!("mail not built: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn japanese_and_english_in_one_mail() {
        let n = notice::Model {
            id: "ntc_1".into(),
            category: "FAILURE".into(),
            title: "Outage".into(),
            body: "jp1 down".into(),
            title_ja: Some("障害".into()),
            body_ja: Some("jp1 が停止しています".into()),
            contract_ids: "[]".into(),
            tenant_ids: "[]".into(),
            starts_at: Some(0),
            ends_at: None,
            source: "operator".into(),
            source_event_id: None,
            recipients: 1,
            created_at: 0,
        };
        let d = delivery::Model {
            id: "ntc_1|usr_1".into(),
            notice_id: "ntc_1".into(),
            user_id: Some("usr_1".into()),
            contract_id: "econ0000000001".into(),
            address: "a@example.com".into(),
            channel: "EMAIL".into(),
            cc: false,
            status: "QUEUED".into(),
            attempts: 0,
            last_error: None,
            sent_at: None,
            next_attempt_at: 0,
            lease_until: 0,
            lease_owner: String::new(),
            created_at: 0,
        };
        let from: Mailbox = "ECL <noreply@ecl.invalid>".parse().unwrap();
        let m = message(&from, &n, &d).unwrap();
        let raw = String::from_utf8(m.formatted()).unwrap();
        assert!(raw.contains("X-Ecl-Delivery: ntc_1|usr_1"), "{raw}");
        assert!(raw.contains("=?utf-8?"), "subject encoded: {raw}");
        let bad = delivery::Model {
            address: "not an address".into(),
            ..d
        };
        assert!(message(&from, &n, &bad).is_err());
    }
}
