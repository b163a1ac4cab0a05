//! Crash safety of the real binary: acknowledged entries survive SIGKILL at
//! arbitrary moments, exactly once, and reports equal the ground truth.

#![allow(clippy::unwrap_used)]

use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

struct Server {
    child: Child,
    base: String,
}

fn start(dir: &std::path::Path) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_spendstream"))
        .arg("serve")
        .env("SPENDSTREAM__STORAGE__DATA_DIR", dir)
        .env("SPENDSTREAM__SERVER__LISTEN", "127.0.0.1:0")
        .env("SPENDSTREAM__PROCESSORS__SNAPSHOT_EVERY_EVENTS", "150")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start spendstream");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("read the listening line");
    let base = line.trim().rsplit(' ').next().expect("address").to_owned();
    assert!(base.starts_with("http://"), "unexpected first line: {line}");
    Server { child, base }
}

#[derive(Default)]
struct Truth {
    /// Acknowledged adds: idempotency key -> (entry id, amount in minor units).
    acked: BTreeMap<String, (String, i64)>,
    /// Adds whose answer was lost in the crash: key -> amount.
    unknown: BTreeMap<String, i64>,
    /// Acknowledged removals.
    removed: BTreeSet<String>,
    /// Removals whose answer was lost in the crash.
    unknown_removed: BTreeSet<String>,
}

async fn post_entry(http: &reqwest::Client, base: &str, token: &str, key: &str, minor: i64) -> Result<Value, String> {
    let body = json!({"amount": format!("{}.{:02}", minor / 100, minor % 100), "merchant": "Swiggy", "occurred_at": "2026-10-15"});
    let r = http
        .post(format!("{base}/v1/expenses"))
        .bearer_auth(token)
        .header("idempotency-key", key)
        .json(&body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if r.status() != reqwest::StatusCode::CREATED {
        return Err(format!("status {}", r.status()));
    }
    r.json().await.map_err(|e| e.to_string())
}

/// Shared by the writers: what happened, and a wake-up for every acknowledgement.
type Shared = (Arc<Mutex<Truth>>, Arc<Notify>);

async fn writer(http: reqwest::Client, base: String, token: String, w: usize, shared: Shared, round: usize) {
    let (truth, acks) = shared;
    for i in 0.. {
        let key = format!("r{round}-w{w}-{i}");
        let minor = ((round * 7919 + w * 104_729 + i * 31) % 50_000 + 100) as i64;
        match post_entry(&http, &base, &token, &key, minor).await {
            Ok(v) => {
                let id = v["id"].as_str().unwrap_or_default().to_owned();
                truth.lock().unwrap().acked.insert(key, (id.clone(), minor));
                acks.notify_one();
                // Remove every fifth acknowledged entry.
                if i % 5 == 4 {
                    let r = http.delete(format!("{base}/v1/expenses/{id}")).bearer_auth(&token).send().await;
                    if matches!(r, Ok(ref r) if r.status() == reqwest::StatusCode::NO_CONTENT) {
                        truth.lock().unwrap().removed.insert(id);
                    } else {
                        truth.lock().unwrap().unknown_removed.insert(id);
                        return;
                    }
                }
            }
            Err(_) => {
                truth.lock().unwrap().unknown.insert(key, minor);
                return;
            }
        }
    }
}

fn acked(truth: &Mutex<Truth>) -> usize {
    truth.lock().unwrap().acked.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_entries_survive_sigkill_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let http = reqwest::Client::new();
    let mut server = start(dir.path());
    let signup = http
        .post(format!("{}/v1/auth/signup", server.base))
        .json(&json!({"email": "crash@example.com", "password": "correct horse battery", "time_zone": "UTC"}))
        .send()
        .await
        .unwrap();
    assert_eq!(signup.status(), reqwest::StatusCode::CREATED);
    let token = signup.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned();
    let truth = Arc::new(Mutex::new(Truth::default()));
    let acks = Arc::new(Notify::new());
    // Kill after a varying number of acknowledgements, so the kill lands at
    // different points of appends, processing and snapshots.
    for (round, kill_after) in [37usize, 151, 89, 260, 17].into_iter().enumerate() {
        let target = acked(&truth) + kill_after;
        let writers: Vec<_> = (0..8)
            .map(|w| {
                tokio::spawn(writer(
                    http.clone(),
                    server.base.clone(),
                    token.clone(),
                    w,
                    (truth.clone(), acks.clone()),
                    round,
                ))
            })
            .collect();
        // notify_one stores a permit, so an acknowledgement between the check
        // and the wait is not missed.
        while acked(&truth) < target {
            acks.notified().await;
        }
        server.child.kill().expect("SIGKILL");
        server.child.wait().unwrap();
        for w in writers {
            w.await.unwrap();
        }
        server = start(dir.path());
    }
    // A client retries what it never heard back about, with the same key.
    let unknown: Vec<(String, i64)> = truth.lock().unwrap().unknown.iter().map(|(k, v)| (k.clone(), *v)).collect();
    for (key, minor) in unknown {
        let v = post_entry(&http, &server.base, &token, &key, minor).await.expect("retry after restart");
        truth.lock().unwrap().acked.insert(key, (v["id"].as_str().unwrap().to_owned(), minor));
    }
    let unknown_removed: Vec<String> = truth.lock().unwrap().unknown_removed.iter().cloned().collect();
    for id in unknown_removed {
        let r = http.delete(format!("{}/v1/expenses/{id}", server.base)).bearer_auth(&token).send().await.unwrap();
        assert!(
            [reqwest::StatusCode::NO_CONTENT, reqwest::StatusCode::NOT_FOUND].contains(&r.status()),
            "retried removal: {}",
            r.status()
        );
        truth.lock().unwrap().removed.insert(id);
    }
    let (acked, removed) = {
        let t = truth.lock().unwrap();
        (t.acked.clone(), t.removed.clone())
    };
    let live: BTreeMap<&String, i64> =
        acked.values().filter(|(id, _)| !removed.contains(id)).map(|(id, m)| (id, *m)).collect();
    // Every live entry is listed exactly once.
    let mut listed: Vec<String> = Vec::new();
    let mut url = format!("{}/v1/expenses?limit=500", server.base);
    loop {
        let page: Value = http.get(&url).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        for e in page["entries"].as_array().unwrap() {
            listed.push(e["id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => url = format!("{}/v1/expenses?limit=500&cursor={c}", server.base),
            None => break,
        }
    }
    let unique: BTreeSet<&String> = listed.iter().collect();
    assert_eq!(unique.len(), listed.len(), "an entry is listed twice");
    let expected: BTreeSet<&String> = live.keys().copied().collect();
    assert_eq!(unique, expected, "listed entries differ from the acknowledged ones");
    // And the report equals the ground truth.
    let report: Value = http
        .get(format!("{}/v1/reports?period=month&date=2026-10-15", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(report["spent"]["minor"].as_i64().unwrap(), live.values().sum::<i64>());
    assert_eq!(report["count"].as_u64().unwrap() as usize, live.len());
    assert!(acked.len() > 500, "the test wrote too little to mean anything: {}", acked.len());
    server.child.kill().unwrap();
}
