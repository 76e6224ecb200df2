//! The Lambda package as Lambda would run it: the `bootstrap` inside the zip that
//! `scripts/package.sh` builds, on the real runtime loop under the Runtime API test server.
//!
//! Ignored by the ordinary test run (it reports the test as skipped, not passed), because
//! building the release package takes minutes and that run must not rebuild it.
//! `scripts/package.sh` runs it after each build with `LIFT_TEST_PACKAGE_ZIP=<bootstrap.zip>`
//! (`cargo nextest run -p quickstart --test package --run-ignored only`); run without the
//! variable, it fails and says so.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use lift_testing::{events, RuntimeApiServer};
use serde_json::{json, Value};
use tokio::process::Command;

const LIMIT: Duration = Duration::from_secs(20);

/// Extracts `bootstrap` from the zip; fails unless the zip marks it as an executable file.
fn extract(zip: &str, dir: &std::path::Path) -> PathBuf {
    let dst = dir.join("bootstrap");
    let script = "import sys, zipfile\n\
                  z = zipfile.ZipFile(sys.argv[1])\n\
                  assert z.namelist() == ['bootstrap'], z.namelist()\n\
                  i = z.getinfo('bootstrap')\n\
                  print(oct(i.external_attr >> 16))\n\
                  open(sys.argv[2], 'wb').write(z.read(i))\n";
    let out = std::process::Command::new("python3")
        .args(["-c", script, zip, dst.to_str().unwrap()])
        .output()
        .expect("python3 reads the zip");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mode = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert_eq!(
        mode, "0o100755",
        "bootstrap must be a regular executable file in the zip"
    );
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&dst, std::fs::Permissions::from_mode(0o755)).unwrap();
    dst
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the release package: run scripts/package.sh, which runs this test"]
async fn the_zipped_bootstrap_runs_the_quick_start() {
    let zip = std::env::var("LIFT_TEST_PACKAGE_ZIP")
        .expect("LIFT_TEST_PACKAGE_ZIP names the bootstrap.zip to test: build it with scripts/package.sh");
    let dir = std::env::temp_dir().join(format!("lift-package-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bootstrap = extract(&zip, &dir);

    let server = RuntimeApiServer::start().await.unwrap();
    // As Lambda starts it: the handler is the file, the environment is Lambda's and the
    // template's (no table: LIFT_TABLE would need DynamoDB).
    let mut child = Command::new(&bootstrap)
        .current_dir(&dir)
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", server.endpoint())
        .env("AWS_LAMBDA_FUNCTION_NAME", "quickstart")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("_HANDLER", "bootstrap")
        .env("POWERTOOLS_SERVICE_NAME", "quickstart")
        .env("POWERTOOLS_LOG_LEVEL", "INFO")
        .env("QUICKSTART_QUOTA_PER_MINUTE", "20")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the extracted bootstrap starts");

    let hello = server
        .invoke(events::apigw_v2("GET", "/hello/package").build().to_string())
        .outcome(LIMIT)
        .await;
    let v = hello.json().unwrap_or_else(|| panic!("{hello:?}"));
    assert_eq!(v["statusCode"], 200, "{v}");
    let body: Value = serde_json::from_str(v["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["message"], "hello, package");

    let panic = server
        .invoke(events::apigw_v2("GET", "/panic").build().to_string())
        .outcome(LIMIT)
        .await;
    assert_eq!(
        panic.json().unwrap()["statusCode"],
        500,
        "panics are caught (panic = unwind)"
    );

    let sqs = server
        .invoke(
            events::sqs("jobs")
                .message(r#"{"fail":true}"#)
                .message("{}")
                .build()
                .to_string(),
        )
        .outcome(LIMIT)
        .await;
    assert_eq!(
        sqs.json().unwrap()["batchItemFailures"],
        json!([{"itemIdentifier": "msg-0"}]),
        "{sqs:?}"
    );

    let lattice =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/events/lattice-v2-hello.json")).unwrap();
    let v = server.invoke(lattice).outcome(LIMIT).await.json().unwrap();
    assert_eq!(
        (v["statusCode"].as_u64(), v["statusDescription"].as_str()),
        (Some(200), Some("200 OK")),
        "{v}"
    );

    let kafka = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/events/kafka.json")).unwrap();
    let o = server.invoke(kafka).outcome(LIMIT).await;
    assert_eq!(o.error_type(), Some("Lift.handler_failed"), "{o:?}");

    assert!(
        child.try_wait().unwrap().is_none(),
        "the process survived every invocation"
    );
    assert!(server.init_errors().is_empty(), "{:?}", server.init_errors());
    child.kill().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
