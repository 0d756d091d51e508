//! Every operation of every surface, taken from the served OpenAPI documents, called by
//! every kind of caller; each answer must be what the table in
//! `access_support/table.rs` says, in the surface's own words (CONTRACT §3).

use crate::access_support;
use crate::care_support;
use crate::open_support;

use access_support::table::{self, TABLE};
use access_support::{expected, outcome, served_operations, Caller, Outcome, World, CALLERS};

#[tokio::test]
async fn every_operation_answers_every_caller_as_the_table_says() {
    let world = World::start().await;
    let (ops, docs) = served_operations(&world.server).await;
    assert!(ops.len() > 100, "only {} operations served", ops.len());
    let mut wrong = Vec::new();
    for op in &ops {
        let Some(row) = table::row(op.surface, &op.method, &op.path) else {
            wrong.push(format!("{} {} {}: served but missing from the table", op.surface, op.method, op.path));
            continue;
        };
        for caller in CALLERS {
            let answer = world.call(&docs, op, row, caller).await;
            let want = expected(row.who, caller);
            match outcome(op.surface, &op.path, &answer) {
                Ok(got) if got == want => {}
                Ok(got) => wrong.push(format!(
                    "{} {} {} as {caller:?}: {got:?}, the table says {want:?}: {}",
                    op.surface, op.method, op.path, answer.body
                )),
                Err(why) => wrong.push(format!("{} {} {} as {caller:?}: {why}", op.surface, op.method, op.path)),
            }
            // Care tells a missing token from a bad one (the document's -100 and -101).
            if op.surface == "care"
                && want == Outcome::SignedOut
                && caller == Caller::Anonymous
                && answer.body["status"] != -100
            {
                wrong.push(format!("care {} {} without a token: {}, not -100", op.method, op.path, answer.body));
            }
        }
    }
    for row in TABLE {
        if !ops.iter().any(|op| op.surface == row.surface && op.method == row.method && op.path == row.path) {
            wrong.push(format!("{} {} {}: in the table but not served", row.surface, row.method, row.path));
        }
    }
    assert!(wrong.is_empty(), "{} mismatches:\n{}", wrong.len(), wrong.join("\n"));
}

#[tokio::test]
async fn no_credential_is_stored_as_issued() {
    let world = World::start().await;
    let server = &world.server;
    let root = server.system_login("root", "root-password").await;
    let app = open_support::create_app(server, &root, serde_json::json!(["care:read"]), None).await;
    let care = care_support::login(server, "13700000000", "Matrix-pass-1").await;
    let issued =
        [care, root, world.device.clone(), world.full_app.clone(), app["appSecret"].as_str().unwrap().to_owned()];
    let mut stored = std::fs::read(server.db_path()).unwrap();
    stored.extend(std::fs::read(server.data().join("hearth.db-wal")).unwrap_or_default());
    for secret in &issued {
        assert!(!stored.windows(secret.len()).any(|w| w == secret.as_bytes()), "{secret} is on disk as issued");
    }
}
