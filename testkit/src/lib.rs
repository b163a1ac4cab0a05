//! Test helpers: the whole pipeline (event log, processors, store, API) in
//! this process on a temp data dir, driven through the router without a socket.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value;
use spendstream_api::{AppState, router};
use spendstream_backends::wiring::{self, Ports};
use spendstream_core::Config;
use spendstream_ingest::pipeline::load_rules;
use spendstream_processors::runner::Runner;
use spendstream_processors::tips::TipRules;
use std::sync::Arc;
use tempfile::TempDir;
use tokio::sync::watch;
use tower::ServiceExt;

/// The defaults with no environment layer (tests must not see the caller's env).
pub fn test_config(dir: &std::path::Path) -> Config {
    let env = figment::providers::Env::prefixed("SPENDSTREAM_TEST_UNSET__");
    let mut c = Config::load_with_env(None, env).expect("compiled-in defaults are valid");
    c.storage.data_dir = dir.to_owned();
    c
}

pub mod conformance;

/// A running pipeline.
pub struct TestApp {
    /// The API.
    pub router: Router,
    /// The handlers' state.
    pub state: AppState,
    /// The ports behind it.
    pub ports: Ports,
    /// Data dir (removed on drop).
    pub dir: TempDir,
    stop: watch::Sender<bool>,
    runner: tokio::task::JoinHandle<()>,
}

/// A response: status, headers and JSON body (`Value::Null` when empty).
pub struct Resp {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: axum::http::HeaderMap,
    /// Body as JSON.
    pub body: Value,
}

impl TestApp {
    /// Starts with the default config.
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Starts with a config tweaked by `f`.
    pub async fn spawn_with(f: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = test_config(dir.path());
        f(&mut config);
        Self::start(config, dir).await
    }

    /// Starts on `dir` (e.g. to restart on the same data).
    pub async fn start(config: Config, dir: TempDir) -> Self {
        let config = Arc::new(config);
        let ports = wiring::open(&config).await.expect("open ports");
        let secret = wiring::jwt_secret(&config).expect("secret");
        let (stop, rx) = watch::channel(false);
        let runner = Runner::from_config(ports.log.clone(), ports.store.clone(), &config).expect("categories");
        let runner = tokio::spawn(runner.run(rx));
        let sms_rules = load_rules(&config.ingest).expect("sms rules");
        let tips = TipRules::from_config(&config.tips.rules).expect("tip rules");
        let state = AppState::new(
            config,
            ports.log.clone(),
            ports.store.clone(),
            ports.accounts.clone(),
            ports.shared.clone(),
            ports.inbox.clone(),
            ports.chats.clone(),
            sms_rules,
            tips,
            &secret,
        );
        TestApp { router: router(state.clone()), state, ports, dir, stop, runner }
    }

    /// Stops the processors (they checkpoint) and returns the data dir.
    pub async fn stop(self) -> TempDir {
        let _ = self.stop.send(true);
        let _ = self.runner.await;
        self.dir
    }

    /// Stops, then starts again on the same data with the config tweaked by `f`.
    pub async fn restart_with(self, f: impl FnOnce(&mut Config)) -> Self {
        let mut config = (*self.state.config).clone();
        f(&mut config);
        let dir = self.stop().await;
        Self::start(config, dir).await
    }

    /// Sends a request; `body` is sent as JSON.
    pub async fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> Resp {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let body = match body {
            Some(v) => {
                req = req.header("content-type", "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        self.send(req.body(body).expect("request")).await
    }

    /// Sends a prepared request.
    pub async fn send(&self, req: Request<Body>) -> Resp {
        let resp = self.router.clone().oneshot(req).await.expect("router never fails");
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = axum::body::to_bytes(resp.into_body(), 16 * 1024 * 1024).await.expect("body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Resp { status, headers, body }
    }

    /// Signs up `email` with a good password; returns the access token and user id.
    pub async fn signup(&self, email: &str, time_zone: &str) -> (String, String) {
        let r = self
            .call(
                "POST",
                "/v1/auth/signup",
                None,
                Some(serde_json::json!({"email": email, "password": "correct horse battery", "time_zone": time_zone})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        (
            r.body["access_token"].as_str().expect("token").to_owned(),
            r.body["user"]["id"].as_str().expect("id").to_owned(),
        )
    }

    /// Adds an entry and returns its body (asserting 201).
    pub async fn add(&self, token: &str, entry: Value) -> Value {
        let r = self.call("POST", "/v1/expenses", Some(token), Some(entry)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body
    }
}
