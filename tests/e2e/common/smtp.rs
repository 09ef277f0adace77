//! A real SMTP server for the suites that mail (notifications, SLA): aiosmtpd running
//! `tests/smtp_sink.py`, which writes every accepted message to a directory read back here.

use serde_json::Value;
use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

/// A python3 that has aiosmtpd (scripts/services-up installs it: Debian's package or a venv).
fn python() -> String {
    let mut candidates: Vec<String> = std::env::var("ECL_TEST_SMTP_PYTHON").into_iter().collect();
    candidates.push("/usr/bin/python3".into());
    candidates.push("python3".into());
    if let Ok(home) = std::env::var("HOME") {
        candidates.push(format!("{home}/.cache/ecl-smtp-venv/bin/python"));
    }
    candidates
        .into_iter()
        .find(|p| {
            Command::new(p)
                .args(["-c", "import aiosmtpd"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .expect("a python3 with aiosmtpd (./scripts/services-up installs it)")
}

/// The SMTP server process: start, stop and start again on the same port and directory.
pub struct Smtp {
    delay_ms: u64,
    python: String,
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl Smtp {
    pub async fn start() -> Smtp {
        Smtp::start_with_delay(0).await
    }

    /// A server that takes `delay_ms` over each message (a busy one).
    pub async fn start_with_delay(delay_ms: u64) -> Smtp {
        let mut s = Smtp {
            delay_ms,
            python: python(),
            port: super::free_port(),
            dir: std::env::temp_dir().join(format!("ecl-smtp-{}", uuid::Uuid::new_v4().simple())),
            child: None,
        };
        s.up().await;
        s
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub async fn up(&mut self) {
        let child = Command::new(&self.python)
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smtp_sink.py"))
            .arg(self.port.to_string())
            .arg(&self.dir)
            .env("SMTP_SINK_DELAY_MS", self.delay_ms.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the SMTP server");
        self.child = Some(child);
        let port = self.port;
        super::wait_until(
            Duration::from_secs(20),
            "the SMTP server starts",
            || async move {
                tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .is_ok()
            },
        )
        .await;
    }

    /// Stops the server (SIGKILL): connections are refused until `up`.
    pub fn down(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Every message received so far.
    pub fn mails(&self) -> Vec<Value> {
        let Ok(dir) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        dir.filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .filter_map(|s| serde_json::from_str(&s).ok())
            .collect()
    }

    pub fn mails_of(&self, notice: &str) -> Vec<Value> {
        self.mails()
            .into_iter()
            .filter(|m| m["notice"] == notice)
            .collect()
    }

    /// Waits until `n` mails of `notice` arrived; returns them.
    pub async fn wait(&self, notice: &str, n: usize) -> Vec<Value> {
        super::wait_for(
            Duration::from_secs(60),
            &format!("{n} mails of {notice} arrive"),
            || async {
                let got = self.mails_of(notice);
                (got.len() >= n).then_some(got)
            },
        )
        .await
    }

    /// The recipients of `notice` (login and `to` / `cc`), once all `n` arrived.
    pub async fn received(&self, notice: &Value) -> Vec<(String, String)> {
        let id = notice["id"].as_str().unwrap();
        let n = notice["recipientCount"].as_u64().unwrap() as usize;
        let mut got: Vec<(String, String)> = self
            .wait(id, n)
            .await
            .iter()
            .map(|m| {
                let to = m["to"][0].as_str().unwrap();
                (
                    to.trim_end_matches("@example.com").to_string(),
                    m["copy"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        got.sort();
        got
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        self.down();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
