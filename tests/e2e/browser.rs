//! The portal and GraphiQL in a real browser: starts the platform embedded and runs
//! `tests/browser/run.mjs` (playwright-core driving Debian's headless Chromium) against it.
//! `scripts/test` installs what this needs (`apt-get install chromium`, `npm ci` in
//! tests/browser); without them the test fails and says so, unless `ECL_SKIP_BROWSER=1`.

use crate::common;

use common::{OPERATOR_PASSWORD, spawn_embedded};
use std::path::Path;

#[actix_rt::test]
async fn portal_and_graphiql_in_chromium() {
    if std::env::var("ECL_SKIP_BROWSER").is_ok_and(|v| v == "1") {
        eprintln!("ECL_SKIP_BROWSER=1: browser tests skipped");
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let chromium = std::env::var("ECL_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "{chromium} is missing: `apt-get install chromium` (scripts/test does), or ECL_SKIP_BROWSER=1"
    );
    assert!(
        dir.join("node_modules/playwright-core").exists(),
        "playwright-core is missing: `npm ci` in tests/browser (scripts/test does), or ECL_SKIP_BROWSER=1"
    );
    let (app, gql) = spawn_embedded().await;
    // The platform runs on this test's runtime: wait for node without blocking it.
    let out = tokio::process::Command::new("node")
        .arg("run.mjs")
        .current_dir(&dir)
        .env("ECL_BASE_URL", &gql.base)
        .env("ECL_OPERATOR_PASSWORD", OPERATOR_PASSWORD)
        .env("ECL_CHROMIUM", &chromium)
        .kill_on_drop(true)
        .output()
        .await
        .expect("node runs (Node.js 20 or later)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        out.status.success(),
        "browser tests failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
    app.stop().await;
}
