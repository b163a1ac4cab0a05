//! Accounts and the SMS inbox on PostgreSQL (`backends.accounts = "postgres"`),
//! against the server at `SPENDSTREAM_TEST_POSTGRES_URL` (default the local
//! one, `postgres://postgres@127.0.0.1:5432/postgres`). Each test works in a
//! database of its own, `spendstream_test_<uuid>`, dropped at the end. Without
//! a server the tests say so and pass, except under `CI=true`, where a missing
//! server fails them. The unreachable-server tests need no server.

#![allow(clippy::unwrap_used)]

use jiff::Timestamp;
use spendstream_backends::pg_accounts::PgAccounts;
use spendstream_backends::sqlite_accounts::SqliteAccounts;
use spendstream_core::config::{PostgresConfig, Secret, redact_url};
use spendstream_core::inbox::{Inbox, InboxItem, SmsStatus};
use spendstream_core::ports::{Accounts, AccountsError, RefreshToken, Rotation, User};
use spendstream_core::{Currency, EntryId, UserId, UserSettings};
use spendstream_testkit::conformance::{accounts_story, chats_story, inbox_story};
use sqlx::{Connection, Executor, PgConnection, Row};
use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Barrier;

fn admin_url() -> String {
    std::env::var("SPENDSTREAM_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// `admin` with its database replaced by `name`.
fn database_url(admin: &str, name: &str) -> String {
    let (scheme, rest) = admin.split_once("://").expect("SPENDSTREAM_TEST_POSTGRES_URL is a URL");
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let query = rest[end..].find('?').map_or("", |q| &rest[end + q..]);
    format!("{scheme}://{}/{name}{query}", &rest[..end])
}

fn config(url: &str) -> PostgresConfig {
    PostgresConfig { url: Secret::new(url), max_connections: 10, timeout_ms: 5_000 }
}

/// A connection to the admin database, or `None` (SKIPPED) without a server
/// unless `CI=true`.
async fn admin() -> Option<PgConnection> {
    let url = admin_url();
    let connected = tokio::time::timeout(Duration::from_secs(5), PgConnection::connect(&url)).await;
    match connected {
        Ok(Ok(conn)) => Some(conn),
        failed => {
            let why = match failed {
                Ok(Err(e)) => e.to_string(),
                _ => "no answer within 5 s".into(),
            };
            let url = redact_url(&url);
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("PostgreSQL at {url} is required under CI=true: {why}");
            }
            eprintln!("SKIPPED: no PostgreSQL at {url} ({why}); CI=true makes this a failure");
            None
        }
    }
}

/// Runs `body` with the URL of a fresh, empty database, then drops the
/// database (also when `body` panics).
async fn with_database<F, Fut>(body: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(mut admin) = admin().await else { return };
    let name = format!("spendstream_test_{}", uuid::Uuid::new_v4().simple());
    admin.execute(format!("CREATE DATABASE {name}").as_str()).await.unwrap();
    let outcome = tokio::spawn(body(database_url(&admin_url(), &name))).await;
    // FORCE: pools of the body may still be closing their connections.
    admin.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str()).await.unwrap();
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

async fn connect(url: &str) -> Arc<PgAccounts> {
    Arc::new(PgAccounts::connect(&config(url)).await.expect("connect and migrate"))
}

fn new_user() -> User {
    User {
        id: UserId(uuid::Uuid::now_v7()),
        email: format!("{}@example.com", uuid::Uuid::new_v4()),
        settings: UserSettings {
            time_zone: "UTC".into(),
            week_start: Default::default(),
            currency: Currency::parse("INR").unwrap(),
        },
        created_at: Timestamp::from_second(1_800_000_000).unwrap(),
    }
}

fn refresh(hash: &str, family: &str, user: UserId) -> RefreshToken {
    RefreshToken {
        hash: hash.into(),
        family: family.into(),
        user_id: user,
        expires_at: Timestamp::now() + jiff::SignedDuration::from_hours(1),
    }
}

#[tokio::test]
async fn postgres_accounts_story() {
    with_database(|url| async move { accounts_story(connect(&url).await).await }).await;
}

#[tokio::test]
async fn postgres_inbox_story() {
    with_database(|url| async move { inbox_story(connect(&url).await).await }).await;
}

#[tokio::test]
async fn postgres_chats_story() {
    with_database(|url| async move {
        let db = connect(&url).await;
        chats_story(db.clone(), db).await
    })
    .await;
}

#[tokio::test]
async fn migrations_applied_twice_are_a_no_op() {
    with_database(|url| async move {
        let applied = |url: String| async move {
            let mut c = PgConnection::connect(&url).await.unwrap();
            let rows = sqlx::query("SELECT version, description, checksum, installed_on::text AS at FROM _sqlx_migrations ORDER BY version")
                .fetch_all(&mut c)
                .await
                .unwrap();
            rows.iter()
                .map(|r| {
                    let checksum: Vec<u8> = r.get("checksum");
                    (r.get::<i64, _>("version"), r.get::<String, _>("description"), checksum, r.get::<String, _>("at"))
                })
                .collect::<Vec<_>>()
        };
        let first = connect(&url).await;
        let u = new_user();
        first.create_user(&u, "hash").await.unwrap();
        let before = applied(url.clone()).await;
        let versions: Vec<_> = before.iter().map(|(v, d, _, _)| (*v, d.as_str())).collect();
        assert_eq!(versions, vec![(1, "accounts"), (2, "tokens sms inbox"), (3, "chats")]);

        // A restart, and three processes starting at once: nothing applied again, nothing lost.
        let again = connect(&url).await;
        let (a, b, c) = tokio::join!(connect(&url), connect(&url), connect(&url));
        assert_eq!(applied(url.clone()).await, before, "the second run applies nothing");
        for accounts in [&again, &a, &b, &c] {
            assert_eq!(accounts.user(u.id).await.unwrap().map(|found| found.email), Some(u.email.clone()));
        }
    })
    .await;
}

/// Tables, columns, keys, indexes and foreign keys of the SQLite accounts
/// database, one line each.
async fn sqlite_schema() -> BTreeSet<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("accounts.db");
    drop(SqliteAccounts::open(&path).await.unwrap());
    let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    let tables = "m.type = 'table' AND m.name NOT LIKE 'sqlite%' AND m.name <> '_sqlx_migrations'";
    let mut lines = BTreeSet::new();
    let mut keys = std::collections::BTreeMap::<String, Vec<(i64, String)>>::new();
    let q = format!(
        "SELECT m.name AS t, p.name AS c, p.\"notnull\" AS nn, p.pk AS pk FROM sqlite_master m, pragma_table_info(m.name) p WHERE {tables}"
    );
    for r in sqlx::query(&q).fetch_all(&mut c).await.unwrap() {
        let (t, col, nn, pk): (String, String, i64, i64) = (r.get("t"), r.get("c"), r.get("nn"), r.get("pk"));
        // SQLite lets a TEXT primary key hold NULL; PostgreSQL never does, nor is it meant to here.
        lines.insert(format!("column {t}.{col}{}", if nn == 1 || pk > 0 { " not null" } else { "" }));
        if pk > 0 {
            keys.entry(t).or_default().push((pk, col));
        }
    }
    for (t, mut cols) in keys {
        cols.sort();
        lines.insert(format!("primary key {t}({})", cols.into_iter().map(|(_, c)| c).collect::<Vec<_>>().join(",")));
    }
    let q = format!(
        "SELECT m.name AS t, il.name AS i, il.\"unique\" AS u, il.origin AS o, ii.name AS c \
         FROM sqlite_master m, pragma_index_list(m.name) il, pragma_index_info(il.name) ii \
         WHERE {tables} ORDER BY m.name, il.name, ii.seqno"
    );
    let mut indexes = std::collections::BTreeMap::<(String, String, i64, String), Vec<String>>::new();
    for r in sqlx::query(&q).fetch_all(&mut c).await.unwrap() {
        indexes.entry((r.get("t"), r.get("i"), r.get("u"), r.get("o"))).or_default().push(r.get("c"));
    }
    for ((t, i, u, origin), cols) in indexes {
        let cols = cols.join(",");
        match origin.as_str() {
            "pk" => {}
            "u" => {
                lines.insert(format!("unique {t}({cols})"));
            }
            _ => {
                lines.insert(format!("{}index {i} on {t}({cols})", if u == 1 { "unique " } else { "" }));
            }
        }
    }
    let q = format!(
        "SELECT m.name AS t, f.\"from\" AS c, f.\"table\" AS rt, f.\"to\" AS rc \
         FROM sqlite_master m, pragma_foreign_key_list(m.name) f WHERE {tables}"
    );
    for r in sqlx::query(&q).fetch_all(&mut c).await.unwrap() {
        let (t, col, rt, rc): (String, String, String, String) = (r.get("t"), r.get("c"), r.get("rt"), r.get("rc"));
        lines.insert(format!("foreign key {t}({col}) -> {rt}({rc})"));
    }
    lines
}

/// The same lines for the PostgreSQL database at `url`.
async fn postgres_schema(url: &str) -> BTreeSet<String> {
    let mut c = PgConnection::connect(url).await.unwrap();
    let mut lines = BTreeSet::new();
    let columns = "SELECT t.relname::text AS t, a.attname::text AS c, a.attnotnull AS nn \
         FROM pg_class t JOIN pg_namespace n ON n.oid = t.relnamespace JOIN pg_attribute a ON a.attrelid = t.oid \
         WHERE n.nspname = current_schema() AND t.relkind = 'r' AND t.relname <> '_sqlx_migrations' \
         AND a.attnum > 0 AND NOT a.attisdropped";
    for r in sqlx::query(columns).fetch_all(&mut c).await.unwrap() {
        let (t, col, nn): (String, String, bool) = (r.get("t"), r.get("c"), r.get("nn"));
        lines.insert(format!("column {t}.{col}{}", if nn { " not null" } else { "" }));
    }
    let indexes = "SELECT t.relname::text AS t, ic.relname::text AS i, i.indisprimary AS pk, i.indisunique AS u, \
         EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = t.oid \
                 AND k.contype IN ('p', 'u')) AS constraint_backed, \
         (SELECT string_agg(a.attname::text, ',' ORDER BY k.ord) \
          FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) \
          JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum) AS cols \
         FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid JOIN pg_class ic ON ic.oid = i.indexrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE n.nspname = current_schema() AND t.relname <> '_sqlx_migrations'";
    for r in sqlx::query(indexes).fetch_all(&mut c).await.unwrap() {
        let (t, i, pk, u, backed, cols): (String, String, bool, bool, bool, String) =
            (r.get("t"), r.get("i"), r.get("pk"), r.get("u"), r.get("constraint_backed"), r.get("cols"));
        lines.insert(match (pk, backed) {
            (true, _) => format!("primary key {t}({cols})"),
            (false, true) => format!("unique {t}({cols})"),
            (false, false) => format!("{}index {i} on {t}({cols})", if u { "unique " } else { "" }),
        });
    }
    let foreign = "SELECT k.conrelid::regclass::text AS t, a.attname::text AS c, \
         k.confrelid::regclass::text AS rt, af.attname::text AS rc \
         FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace \
         JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1] \
         JOIN pg_attribute af ON af.attrelid = k.confrelid AND af.attnum = k.confkey[1] \
         WHERE k.contype = 'f' AND n.nspname = current_schema()";
    for r in sqlx::query(foreign).fetch_all(&mut c).await.unwrap() {
        let (t, col, rt, rc): (String, String, String, String) = (r.get("t"), r.get("c"), r.get("rt"), r.get("rc"));
        lines.insert(format!("foreign key {t}({col}) -> {rt}({rc})"));
    }
    lines
}

#[tokio::test]
async fn postgres_migrations_are_in_step_with_sqlite() {
    let dir = |engine: &str| {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../backends/migrations").join(engine);
        let mut names: Vec<String> =
            std::fs::read_dir(path).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    };
    assert_eq!(dir("postgres"), dir("sqlite"), "one migration per step, under the same name");
    with_database(|url| async move {
        drop(connect(&url).await);
        let (sqlite, postgres) = (sqlite_schema().await, postgres_schema(&url).await);
        assert!(sqlite.len() > 50, "{sqlite:#?}");
        assert_eq!(postgres, sqlite, "the same tables, columns, keys, indexes and foreign keys");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_concurrent_refresh_rotation_has_exactly_one_winner() {
    with_database(|url| async move {
        // Two API processes.
        let (a, b) = (connect(&url).await, connect(&url).await);
        let u = new_user();
        a.create_user(&u, "hash").await.unwrap();
        a.insert_refresh(&refresh("t0", "fam", u.id)).await.unwrap();
        let racers = 8;
        let barrier = Arc::new(Barrier::new(racers));
        let tasks: Vec<_> = (0..racers)
            .map(|i| {
                let (accounts, barrier) = (if i % 2 == 0 { a.clone() } else { b.clone() }, barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    accounts
                        .rotate_refresh("t0", &refresh(&format!("next{i}"), "ignored", u.id), Timestamp::now())
                        .await
                })
            })
            .collect();
        let mut outcomes = Vec::new();
        for t in tasks {
            outcomes.push(t.await.unwrap().unwrap());
        }
        let won = outcomes.iter().filter(|o| **o == Rotation::Rotated(u.id)).count();
        let reused = outcomes.iter().filter(|o| **o == Rotation::Reused).count();
        assert_eq!((won, reused), (1, racers - 1), "{outcomes:?}");
        // The losers saw a retired token: the family, the winner's new token included, is revoked.
        let mut c = PgConnection::connect(&url).await.unwrap();
        let states: Vec<(String, String)> =
            sqlx::query_as("SELECT hash, state FROM refresh_tokens WHERE family = 'fam' ORDER BY hash")
                .fetch_all(&mut c)
                .await
                .unwrap();
        assert_eq!(states.len(), 2, "one successor was made: {states:?}");
        assert!(states.iter().all(|(_, s)| s == "revoked"), "{states:?}");

        // A replay of a retired token racing the rotation of the current one:
        // whichever runs first, no token of the family is left current.
        for round in 0..10 {
            let fam = format!("fam-{round}");
            let token = |n: &str| refresh(&format!("{fam}-{n}"), &fam, u.id);
            let (t1, t2, t3, tx) = (token("1"), token("2"), token("3"), token("x"));
            a.insert_refresh(&t1).await.unwrap();
            assert_eq!(a.rotate_refresh(&t1.hash, &t2, Timestamp::now()).await.unwrap(), Rotation::Rotated(u.id));
            let (owner, thief) = tokio::join!(
                a.rotate_refresh(&t2.hash, &t3, Timestamp::now()),
                b.rotate_refresh(&t1.hash, &tx, Timestamp::now()),
            );
            assert_eq!(thief.unwrap(), Rotation::Reused);
            assert!(matches!(owner.unwrap(), Rotation::Rotated(_) | Rotation::Reused));
            let current: i64 =
                sqlx::query_scalar("SELECT count(*) FROM refresh_tokens WHERE family = $1 AND state = 'current'")
                    .bind(&fam)
                    .fetch_one(&mut c)
                    .await
                    .unwrap();
            assert_eq!(current, 0, "round {round}: a token of a replayed family is still current");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_inbox_writers_agree_on_one_item_and_one_entry() {
    with_database(|url| async move {
        let (a, b) = (connect(&url).await, connect(&url).await);
        let u = UserId(uuid::Uuid::now_v7());
        let at: Timestamp = "2026-03-01T10:00:00Z".parse().unwrap();
        let racers = 8;
        let barrier = Arc::new(Barrier::new(racers));
        let tasks: Vec<_> = (0..racers)
            .map(|i| {
                let (inbox, barrier) = (if i % 2 == 0 { a.clone() } else { b.clone() }, barrier.clone());
                let item = InboxItem {
                    id: uuid::Uuid::now_v7(),
                    user_id: u,
                    sender: "VM-BANK".into(),
                    body: "Rs 500 debited".into(),
                    body_hash: "hash:same".into(),
                    received_at: at + jiff::SignedDuration::from_secs(i as i64),
                    class: "transaction".into(),
                    status: SmsStatus::Received,
                    reason: None,
                    entry_id: None,
                    bill_id: None,
                    updated_at: at,
                };
                tokio::spawn(async move {
                    barrier.wait().await;
                    inbox.receive(&item, Duration::from_secs(86_400)).await
                })
            })
            .collect();
        let mut got = Vec::new();
        for t in tasks {
            got.push(t.await.unwrap().unwrap());
        }
        assert_eq!(got.iter().filter(|(_, new)| *new).count(), 1, "one forward is new");
        assert_eq!(got.iter().map(|(item, _)| item.id).collect::<BTreeSet<_>>().len(), 1, "all agree on it");

        let barrier = Arc::new(Barrier::new(racers));
        let entries: Vec<EntryId> = (0..racers).map(|_| EntryId::random()).collect();
        let tasks: Vec<_> = entries
            .iter()
            .enumerate()
            .map(|(i, &entry)| {
                let (inbox, barrier) = (if i % 2 == 0 { a.clone() } else { b.clone() }, barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    let refs = ["ref:UPI42".to_owned()];
                    let amt = ["amt:debit:INR:50000:1234".to_owned()];
                    (entry, inbox.claim(u, &refs, &amt, at, Duration::from_secs(120), entry).await.unwrap())
                })
            })
            .collect();
        let mut claims = Vec::new();
        for t in tasks {
            claims.push(t.await.unwrap());
        }
        let winners: Vec<EntryId> = claims.iter().filter(|(_, held)| held.is_none()).map(|(e, _)| *e).collect();
        assert_eq!(winners.len(), 1, "one report becomes the entry: {claims:?}");
        assert!(claims.iter().all(|(e, held)| *e == winners[0] || *held == Some(winners[0])), "{claims:?}");
    })
    .await;
}

#[tokio::test]
async fn a_stuck_operation_is_unavailable_within_the_timeout() {
    with_database(|url| async move {
        let accounts = PgAccounts::connect(&PostgresConfig { timeout_ms: 500, ..config(&url) }).await.unwrap();
        let u = new_user();
        accounts.create_user(&u, "hash").await.unwrap();
        accounts.insert_refresh(&refresh("held", "fam", u.id)).await.unwrap();
        // Another session holds the token's row.
        let mut other = PgConnection::connect(&url).await.unwrap();
        let mut tx = other.begin().await.unwrap();
        sqlx::query("SELECT * FROM refresh_tokens WHERE hash = 'held' FOR UPDATE").execute(&mut *tx).await.unwrap();
        let started = Instant::now();
        let stuck = accounts.rotate_refresh("held", &refresh("next", "fam", u.id), Timestamp::now()).await;
        let took = started.elapsed();
        assert!(matches!(stuck, Err(AccountsError::Unavailable(_))), "{stuck:?}");
        assert!(took < Duration::from_millis(1_500), "gave up after {took:?}");
        tx.rollback().await.unwrap();
        // Nothing half-done: the token is still current and rotates now.
        let now = accounts.rotate_refresh("held", &refresh("next", "fam", u.id), Timestamp::now()).await.unwrap();
        assert_eq!(now, Rotation::Rotated(u.id));
    })
    .await;
}

#[tokio::test]
async fn an_unreachable_server_is_unavailable_within_the_timeout() {
    // Nothing listens on port 1: refused.
    let cfg = PostgresConfig { timeout_ms: 500, ..config("postgres://postgres@127.0.0.1:1/spendstream") };
    let started = Instant::now();
    let refused = PgAccounts::connect(&cfg).await;
    assert!(matches!(refused, Err(AccountsError::Unavailable(_))), "{:?}", refused.err());
    assert!(started.elapsed() < Duration::from_millis(1_500), "gave up after {:?}", started.elapsed());

    // A server that accepts and never answers: the deadline, not the kernel, ends the wait.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            open.push(socket);
        }
    });
    let cfg = PostgresConfig { timeout_ms: 500, ..config(&format!("postgres://postgres:pw@127.0.0.1:{port}/x")) };
    let started = Instant::now();
    let silent = PgAccounts::connect(&cfg).await;
    let took = started.elapsed();
    match silent {
        Err(AccountsError::Unavailable(e)) => assert!(!e.contains("pw"), "no password in errors: {e}"),
        other => panic!("expected unavailable, got {:?}", other.err()),
    }
    assert!(took >= Duration::from_millis(450) && took < Duration::from_millis(1_500), "gave up after {took:?}");
    held.abort();
}
