//! The REST API as a user meets it: sign-up to reports, through the router.

#![allow(clippy::unwrap_used)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use spendstream_testkit::TestApp;

#[tokio::test]
async fn signup_login_refresh_rotation_and_logout() {
    let app = TestApp::spawn().await;
    let good = json!({"email": "Ana@Example.com", "password": "correct horse battery"});
    let r = app.call("POST", "/v1/auth/signup", None, Some(good.clone())).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["user"]["email"], "ana@example.com");
    assert_eq!(r.body["user"]["currency"], "INR");

    let dup = app
        .call(
            "POST",
            "/v1/auth/signup",
            None,
            Some(json!({"email": "ana@example.com", "password": "another long phrase"})),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);

    let login = app.call("POST", "/v1/auth/login", None, Some(good)).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    let access = login.body["access_token"].as_str().unwrap().to_owned();
    let refresh1 = login.body["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(app.call("GET", "/v1/me", Some(&access), None).await.status, StatusCode::OK);

    let r2 = app.call("POST", "/v1/auth/refresh", None, Some(json!({"refresh_token": refresh1}))).await;
    assert_eq!(r2.status, StatusCode::OK, "{}", r2.body);
    let refresh2 = r2.body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(refresh1, refresh2);

    // Reusing the old token revokes the whole family, including the new one.
    let reuse = app.call("POST", "/v1/auth/refresh", None, Some(json!({"refresh_token": refresh1}))).await;
    assert_eq!(reuse.status, StatusCode::UNAUTHORIZED);
    let after = app.call("POST", "/v1/auth/refresh", None, Some(json!({"refresh_token": refresh2}))).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED, "family revoked");

    // Logout revokes.
    let l2 = app
        .call(
            "POST",
            "/v1/auth/login",
            None,
            Some(json!({"email": "ana@example.com", "password": "correct horse battery"})),
        )
        .await;
    let refresh3 = l2.body["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(
        app.call("POST", "/v1/auth/logout", None, Some(json!({"refresh_token": refresh3}))).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.call("POST", "/v1/auth/refresh", None, Some(json!({"refresh_token": refresh3}))).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.call("GET", "/v1/me", Some("not.a.token"), None).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn signup_errors_name_the_field() {
    let app = TestApp::spawn().await;
    for (body, field) in [
        (json!({"email": "not-an-email", "password": "correct horse battery"}), "email"),
        (json!({"email": "a@b.co", "password": "   "}), "password"),
        (json!({"email": "a@b.co", "password": "short"}), "password"),
        (json!({"email": "a@b.co", "password": "aaaaaaaaaaaa"}), "password"),
        (json!({"email": "a@b.co", "password": "password123"}), "password"),
        (json!({"email": "a@b.co", "password": "correct horse battery", "time_zone": "Mars/Base"}), "time_zone"),
        (json!({"email": "a@b.co", "password": "correct horse battery", "currency": "XYZ"}), "currency"),
    ] {
        let r = app.call("POST", "/v1/auth/signup", None, Some(body.clone())).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.body);
        assert_eq!(r.body["error"]["field"], field, "{body}: {}", r.body);
    }
}

#[tokio::test]
async fn failed_logins_are_rate_limited_per_account() {
    let app = TestApp::spawn_with(|c| c.auth.login_failures_per_account = 3).await;
    app.signup("rl@example.com", "UTC").await;
    let bad = json!({"email": "rl@example.com", "password": "wrong wrong wrong"});
    for _ in 0..3 {
        assert_eq!(app.call("POST", "/v1/auth/login", None, Some(bad.clone())).await.status, StatusCode::UNAUTHORIZED);
    }
    let limited = app
        .call(
            "POST",
            "/v1/auth/login",
            None,
            Some(json!({"email": "rl@example.com", "password": "correct horse battery"})),
        )
        .await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = limited.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry >= 1);
}

#[tokio::test]
async fn failed_logins_are_rate_limited_per_address() {
    let app = TestApp::spawn_with(|c| c.auth.login_failures_per_address = 4).await;
    for i in 0..4 {
        let body = json!({"email": format!("nobody{i}@example.com"), "password": "wrong wrong wrong"});
        assert_eq!(app.call("POST", "/v1/auth/login", None, Some(body)).await.status, StatusCode::UNAUTHORIZED);
    }
    let r =
        app.call("POST", "/v1/auth/login", None, Some(json!({"email": "fresh@example.com", "password": "x"}))).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn add_categorise_idempotency_and_remove() {
    let app = TestApp::spawn().await;
    let (tok, _) = app.signup("e@example.com", "Asia/Kolkata").await;
    let e =
        app.add(&tok, json!({"amount": "249.50", "merchant": "SWIGGY*ORDER 1234", "occurred_at": "2026-10-15"})).await;
    assert_eq!(e["amount_minor"], 24950);
    assert_eq!(e["amount"], "249.50");
    assert_eq!(e["currency"], "INR");
    assert_eq!(e["category"], "food_dining");
    assert_eq!(e["category_source"], "rule");
    assert!(e["category_reason"].as_str().unwrap().contains("swiggy"));
    assert_eq!(e["occurred_at"], "2026-10-15T06:30:00Z", "a date is noon in the user's zone");

    let chosen = app.add(&tok, json!({"amount": "100", "merchant": "Swiggy", "category": "gifts_donations"})).await;
    assert_eq!(chosen["category"], "gifts_donations");
    assert_eq!(chosen["category_source"], "user");

    let keyed = |body: Value| {
        Request::post("/v1/expenses")
            .header("authorization", format!("Bearer {tok}"))
            .header("content-type", "application/json")
            .header("idempotency-key", "retry-42")
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let first = app.send(keyed(json!({"amount": "10", "currency": "USD"}))).await;
    let second = app.send(keyed(json!({"amount": "10", "currency": "USD"}))).await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(second.status, StatusCode::CREATED);
    assert_eq!(first.body["id"], second.body["id"]);
    assert_eq!(second.headers["idempotent-replayed"], "true");
    let changed = app.send(keyed(json!({"amount": "11", "currency": "USD"}))).await;
    assert_eq!(changed.status, StatusCode::UNPROCESSABLE_ENTITY);
    let all = app.call("GET", "/v1/expenses?limit=100", Some(&tok), None).await;
    assert_eq!(all.body["entries"].as_array().unwrap().len(), 3, "the retry added nothing");

    let id = e["id"].as_str().unwrap();
    assert_eq!(app.call("GET", &format!("/v1/expenses/{id}"), Some(&tok), None).await.status, StatusCode::OK);
    assert_eq!(
        app.call("DELETE", &format!("/v1/expenses/{id}"), Some(&tok), None).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.call("DELETE", &format!("/v1/expenses/{id}"), Some(&tok), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.call("GET", &format!("/v1/expenses/{id}"), Some(&tok), None).await.status, StatusCode::NOT_FOUND);
    let oct = app.call("GET", "/v1/reports?period=month&date=2026-10-01", Some(&tok), None).await;
    assert_eq!(oct.body["spent"]["minor"], 0, "removed entries are not counted: {}", oct.body);
}

#[tokio::test]
async fn list_filters_and_cursor_pagination() {
    let app = TestApp::spawn().await;
    let (tok, _) = app.signup("l@example.com", "UTC").await;
    for day in 1..=9 {
        let merchant = if day % 3 == 0 { "Uber" } else { "Swiggy" };
        app.add(
            &tok,
            json!({"amount": format!("{day}0"), "merchant": merchant, "occurred_at": format!("2026-09-0{day}")}),
        )
        .await;
    }
    let mut seen = Vec::new();
    let mut url = "/v1/expenses?limit=4".to_owned();
    loop {
        let r = app.call("GET", &url, Some(&tok), None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        for e in r.body["entries"].as_array().unwrap() {
            seen.push(e["occurred_at"].as_str().unwrap().to_owned());
        }
        match r.body["next_cursor"].as_str() {
            Some(c) => url = format!("/v1/expenses?limit=4&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 9);
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted, "newest first, no duplicates across pages");

    let uber = app.call("GET", "/v1/expenses?q=uber", Some(&tok), None).await;
    assert_eq!(uber.body["entries"].as_array().unwrap().len(), 3);
    let transport = app.call("GET", "/v1/expenses?category=transport", Some(&tok), None).await;
    assert_eq!(transport.body["entries"].as_array().unwrap().len(), 3);
    let range = app.call("GET", "/v1/expenses?from=2026-09-02&to=2026-09-04", Some(&tok), None).await;
    assert_eq!(range.body["entries"].as_array().unwrap().len(), 3, "to is inclusive for dates");
    for bad in [
        "/v1/expenses?limit=0",
        "/v1/expenses?limit=100000",
        "/v1/expenses?cursor=zzz",
        "/v1/expenses?from=2026-02-30",
        "/v1/expenses?category=nope",
        "/v1/expenses?bogus=1",
    ] {
        let r = app.call("GET", bad, Some(&tok), None).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.body);
    }
    let cats = app.call("GET", "/v1/categories", None, None).await;
    assert_eq!(cats.body.as_array().unwrap().len(), 18);
}

#[tokio::test]
async fn a_listed_page_follows_every_change_of_the_users_data() {
    // List pages are cached per data version: each change must show at once.
    let app = TestApp::spawn().await;
    let (tok, _) = app.signup("lc@example.com", "UTC").await;
    let first = app.add(&tok, json!({"amount": "120", "merchant": "Swiggy", "occurred_at": "2026-09-01"})).await;
    let second = app.add(&tok, json!({"amount": "80", "merchant": "Corner Shop", "occurred_at": "2026-09-02"})).await;
    let page = |body: &Value| -> Vec<(String, String)> {
        body["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["id"].as_str().unwrap().to_owned(), e["category"].as_str().unwrap().to_owned()))
            .collect()
    };
    let ids = |v: &Value| v["id"].as_str().unwrap().to_owned();
    let before = app.call("GET", "/v1/expenses?limit=10", Some(&tok), None).await;
    assert_eq!(page(&before.body).len(), 2);
    // The same request twice is the same page.
    assert_eq!(app.call("GET", "/v1/expenses?limit=10", Some(&tok), None).await.body, before.body);

    let del = app.call("DELETE", &format!("/v1/expenses/{}", ids(&first)), Some(&tok), None).await;
    assert!(del.status.is_success(), "{}", del.body);
    let after_delete = app.call("GET", "/v1/expenses?limit=10", Some(&tok), None).await;
    assert_eq!(page(&after_delete.body).iter().map(|(id, _)| id.clone()).collect::<Vec<_>>(), vec![ids(&second)]);

    let patch = app
        .call(
            "PATCH",
            &format!("/v1/expenses/{}", ids(&second)),
            Some(&tok),
            Some(json!({"category": "gifts_donations"})),
        )
        .await;
    assert!(patch.status.is_success(), "{}", patch.body);
    let after_patch = app.call("GET", "/v1/expenses?limit=10", Some(&tok), None).await;
    assert_eq!(page(&after_patch.body), vec![(ids(&second), "gifts_donations".to_owned())]);

    let third = app.add(&tok, json!({"amount": "40", "merchant": "Uber", "occurred_at": "2026-09-03"})).await;
    let after_add = app.call("GET", "/v1/expenses?limit=10", Some(&tok), None).await;
    assert_eq!(page(&after_add.body).first().map(|(id, _)| id.clone()), Some(ids(&third)));
    assert_eq!(page(&after_add.body).len(), 2);
}

#[tokio::test]
async fn reports_cut_in_the_users_zone_and_week() {
    let app = TestApp::spawn().await;
    let (tok, _) = app.signup("r@example.com", "Asia/Kolkata").await;
    // 2026-10-04T20:00Z is 2026-10-05 01:30 in Kolkata: October 5th, a Monday.
    app.add(&tok, json!({"amount": "100", "merchant": "Swiggy", "occurred_at": "2026-10-04T20:00:00Z"})).await;
    app.add(&tok, json!({"amount": "300", "merchant": "Uber", "occurred_at": "2026-10-06"})).await;
    app.add(&tok, json!({"amount": "1000", "kind": "income", "note": "salary", "occurred_at": "2026-10-07"})).await;
    app.add(&tok, json!({"amount": "50", "merchant": "Swiggy", "occurred_at": "2026-09-30"})).await;
    app.add(&tok, json!({"amount": "7", "currency": "USD", "merchant": "Cafe", "occurred_at": "2026-10-08"})).await;

    let w = app.call("GET", "/v1/reports?period=week&date=2026-10-07", Some(&tok), None).await;
    assert_eq!(w.status, StatusCode::OK, "{}", w.body);
    assert_eq!(w.body["start"], "2026-10-05");
    assert_eq!(w.body["end"], "2026-10-11");
    assert_eq!(w.body["spent"]["value"], "400.00");
    assert_eq!(w.body["income"]["value"], "1000.00");
    assert_eq!(w.body["net"]["value"], "600.00");
    assert_eq!(w.body["buckets"].as_array().unwrap().len(), 7);
    assert_eq!(w.body["buckets"][0]["spent"]["minor"], 10000, "Monday holds the late-evening UTC entry");
    assert_eq!(w.body["categories"][0]["category"], "transport");
    assert_eq!(w.body["categories"][0]["share_percent"], "75.0");
    assert_eq!(w.body["other_currencies"][0]["currency"], "USD");
    assert_eq!(w.body["other_currencies"][0]["spent"]["value"], "7.00");
    assert_eq!(w.body["previous"]["spent"]["value"], "50.00");
    assert_eq!(w.body["change"]["percent"], "700.0");
    assert_eq!(w.body["top_merchants"][0]["merchant"], "Uber");

    let m = app.call("GET", "/v1/reports?period=month&date=2026-10-31", Some(&tok), None).await;
    assert_eq!(m.body["spent"]["minor"], 40000);
    assert_eq!(m.body["count"], 3);
    assert_eq!(m.body["buckets"].as_array().unwrap().len(), 31);
    let y = app.call("GET", "/v1/reports?period=year&date=2026-01-01", Some(&tok), None).await;
    assert_eq!(y.body["spent"]["minor"], 45000);
    assert_eq!(y.body["buckets"].as_array().unwrap().len(), 12);
    assert_eq!(y.body["buckets"][8]["spent"]["minor"], 5000);

    // Week starting Sunday: Sunday 2026-10-04 to Saturday 2026-10-10.
    let p = app.call("PATCH", "/v1/me", Some(&tok), Some(json!({"week_start": "sunday", "time_zone": "UTC"}))).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    let w2 = app.call("GET", "/v1/reports?period=week&date=2026-10-07", Some(&tok), None).await;
    assert_eq!(w2.body["start"], "2026-10-04");
    assert_eq!(w2.body["buckets"][0]["spent"]["minor"], 10000, "in UTC the entry falls on Sunday");

    for bad in ["/v1/reports?period=decade", "/v1/reports?period=month&date=2026-13-01", "/v1/reports"] {
        assert_eq!(app.call("GET", bad, Some(&tok), None).await.status, StatusCode::BAD_REQUEST, "{bad}");
    }
}

#[tokio::test]
async fn stats_rolling_windows() {
    let app = TestApp::spawn().await;
    let (tok, _) = app.signup("s@example.com", "UTC").await;
    for (date, amount) in
        [("2026-11-20", "10"), ("2026-11-14", "20"), ("2026-10-01", "40"), ("2026-01-05", "80"), ("2025-12-31", "160")]
    {
        app.add(&tok, json!({"amount": amount, "merchant": "Swiggy", "occurred_at": date})).await;
    }
    let r = app.call("GET", "/v1/stats?date=2026-11-20", Some(&tok), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let spent: Vec<(String, i64)> = r.body["windows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (w["name"].as_str().unwrap().to_owned(), w["spent"]["minor"].as_i64().unwrap()))
        .collect();
    let want = [
        ("today", 1000),
        ("last_7_days", 3000),
        ("last_30_days", 3000),
        ("last_90_days", 7000),
        ("month_to_date", 3000),
        ("year_to_date", 15000),
    ];
    assert_eq!(spent, want.iter().map(|(n, v)| (n.to_string(), *v)).collect::<Vec<_>>());
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx() {
    let app = TestApp::spawn().await;
    let (tok, _) = app.signup("b@example.com", "UTC").await;
    let cases: Vec<(Value, &str)> = vec![
        (json!({"amount": "0"}), "amount"),
        (json!({"amount": "-5"}), "amount"),
        (json!({"amount": "1000000000000"}), "amount"),
        (json!({"amount": "12.345"}), "amount"),
        (json!({"amount": "1e3"}), "amount"),
        (json!({"amount": "100", "currency": "JPY"}), ""),
        (json!({"amount": "100.5", "currency": "JPY"}), "amount"),
        (json!({"amount": "1", "currency": "ABC"}), "currency"),
        (json!({"amount": "1", "occurred_at": "2026-02-30"}), "occurred_at"),
        (json!({"amount": "1", "occurred_at": "2999-01-01"}), "occurred_at"),
        (json!({"amount": "1", "occurred_at": "yesterday"}), "occurred_at"),
        (json!({"amount": "1", "merchant": "x".repeat(201)}), "merchant"),
        (json!({"amount": "1", "note": "x".repeat(1001)}), "note"),
        (json!({"amount": "1", "merchant": "bell\u{7}"}), "merchant"),
        (json!({"amount": "1", "category": "yachts"}), "category"),
    ];
    for (body, field) in cases {
        let r = app.call("POST", "/v1/expenses", Some(&tok), Some(body.clone())).await;
        if field.is_empty() {
            assert_eq!(r.status, StatusCode::CREATED, "{body}: {}", r.body);
            continue;
        }
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.body);
        assert_eq!(r.body["error"]["field"], field, "{body}: {}", r.body);
    }
    let raw = |body: &'static str, ct: &'static str| {
        Request::post("/v1/expenses")
            .header("authorization", format!("Bearer {tok}"))
            .header("content-type", ct)
            .body(Body::from(body))
            .unwrap()
    };
    let r = app.send(raw("{\"amount\": ", "application/json")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body["error"]["message"].as_str().unwrap().contains("malformed JSON"));
    let r = app.send(raw("{\"amount\": 12}", "application/json")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "amount must be a string");
    let r = app.send(raw("{\"amount\": \"1\", \"extra\": 1}", "application/json")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body["error"]["message"].as_str().unwrap().contains("unknown field"));
    let r = app.send(raw("amount=1", "application/x-www-form-urlencoded")).await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let huge = format!("{{\"amount\": \"1\", \"note\": \"{}\"}}", "x".repeat(70 * 1024));
    let r = app
        .send(
            Request::post("/v1/expenses")
                .header("authorization", format!("Bearer {tok}"))
                .header("content-type", "application/json")
                .body(Body::from(huge))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.body["error"]["code"], "body_too_large");
    let r = app.call("GET", "/v1/expenses/not-a-uuid", Some(&tok), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app.call("GET", "/v1/nowhere", Some(&tok), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body["error"]["code"], "not_found");
}

#[tokio::test]
async fn a_user_never_sees_another_users_data() {
    let app = TestApp::spawn().await;
    let (alice, _) = app.signup("alice@example.com", "UTC").await;
    let (bob, _) = app.signup("bob@example.com", "UTC").await;
    let e = app.add(&alice, json!({"amount": "999", "merchant": "Secret Shop", "occurred_at": "2026-10-10"})).await;
    let id = e["id"].as_str().unwrap();
    assert_eq!(app.call("GET", &format!("/v1/expenses/{id}"), Some(&bob), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.call("DELETE", &format!("/v1/expenses/{id}"), Some(&bob), None).await.status, StatusCode::NOT_FOUND);
    let list = app.call("GET", "/v1/expenses?q=secret", Some(&bob), None).await;
    assert_eq!(list.body["entries"].as_array().unwrap().len(), 0);
    for path in ["/v1/reports?period=month&date=2026-10-10", "/v1/reports?period=year&date=2026-10-10"] {
        let r = app.call("GET", path, Some(&bob), None).await;
        assert_eq!(r.body["spent"]["minor"], 0, "{path}");
        assert!(!r.body.to_string().contains("Secret Shop"));
    }
    let s = app.call("GET", "/v1/stats?date=2026-10-10", Some(&bob), None).await;
    assert!(s.body["windows"].as_array().unwrap().iter().all(|w| w["spent"]["minor"] == 0));
    let me = app.call("GET", "/v1/me", Some(&bob), None).await;
    assert_eq!(me.body["email"], "bob@example.com");
    // Alice still has it.
    assert_eq!(app.call("GET", &format!("/v1/expenses/{id}"), Some(&alice), None).await.status, StatusCode::OK);
    for path in ["/v1/expenses", "/v1/reports?period=month", "/v1/stats", "/v1/me"] {
        assert_eq!(app.call("GET", path, None, None).await.status, StatusCode::UNAUTHORIZED, "{path}");
    }
}

#[tokio::test]
async fn openapi_covers_every_endpoint() {
    let app = TestApp::spawn().await;
    let r = app.call("GET", "/openapi.json", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    let paths = r.body["paths"].as_object().unwrap();
    for p in [
        "/v1/auth/signup",
        "/v1/auth/login",
        "/v1/auth/refresh",
        "/v1/auth/logout",
        "/v1/me",
        "/v1/expenses",
        "/v1/expenses/{id}",
        "/v1/categories",
        "/v1/reports",
        "/v1/stats",
        "/v1/budgets",
        "/v1/budgets/{id}",
        "/v1/alerts",
        "/v1/alerts/{id}/ack",
        "/v1/tips",
        "/v1/recurring",
        "/v1/rules",
        "/v1/tokens",
        "/v1/ingest/sms",
        "/v1/bills",
        "/health/ready",
    ] {
        assert!(paths.contains_key(p), "{p} missing from the OpenAPI document");
    }
    assert!(paths["/v1/expenses"]["post"].is_object());
    assert!(paths["/v1/expenses/{id}"]["delete"].is_object());
    assert!(paths["/v1/me"]["patch"].is_object());
    assert!(paths["/v1/expenses/{id}"]["patch"].is_object());
    let ready = app.call("GET", "/health/ready", None, None).await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.body);
}

#[tokio::test]
async fn restart_keeps_everything() {
    let app = TestApp::spawn().await;
    let (tok, _) = app.signup("restart@example.com", "Europe/Berlin").await;
    for i in 1..=20 {
        app.add(&tok, json!({"amount": format!("{i}.50"), "merchant": "REWE Markt", "occurred_at": "2026-10-10"}))
            .await;
    }
    let before = app.call("GET", "/v1/reports?period=month&date=2026-10-10", Some(&tok), None).await.body;
    let app = app.restart_with(|_| {}).await;
    // The runner replays from the snapshot; wait until it has caught up.
    let head = app.ports.log_head.unwrap();
    assert!(
        app.ports
            .store
            .wait_applied(
                spendstream_core::ports::Position { partition: 0, offset: head - 1 },
                std::time::Duration::from_secs(10)
            )
            .await
    );
    let after = app.call("GET", "/v1/reports?period=month&date=2026-10-10", Some(&tok), None).await.body;
    assert_eq!(before, after);
    assert_eq!(after["count"], 20);
}

fn csv_request(path: &str, token: &str, content_type: &str, body: String) -> Request<Body> {
    Request::builder()
        .method("POST")
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", content_type)
        .body(Body::from(body))
        .unwrap()
}

#[tokio::test]
async fn unknown_paths_get_404_and_the_import_route_takes_only_post() {
    let app = TestApp::spawn().await;
    let (tok, _) = app.signup("routes@example.com", "UTC").await;
    let r = app.call("GET", "/v1/nothing-here", Some(&tok), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert!(r.body["error"]["message"].as_str().unwrap().contains("openapi.json"), "{}", r.body);
    let r = app.call("GET", "/v1/expenses/import", Some(&tok), None).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn csv_import_has_its_own_time_limit() {
    // Signed up under the normal limits, then the same data served with a
    // request timeout far too short for any write: the import is held to
    // api.import_timeout_ms instead.
    let app = TestApp::spawn().await;
    let (tok, _) = app.signup("slow@example.com", "UTC").await;
    let app = app
        .restart_with(|c| {
            c.server.request_timeout_ms = 1;
            c.api.import_timeout_ms = 60_000;
        })
        .await;
    let csv = "occurred_at,amount,merchant\n2026-10-02T08:00:00Z,12.50,Uber\n2026-10-03T08:00:00Z,7,Uber\n";
    let r = app.send(csv_request("/v1/expenses/import", &tok, "text/csv", csv.into())).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["imported"], 2, "{}", r.body);

    // Past its own limit the import gets the same 503 as any slow request.
    let app = app.restart_with(|c| c.api.import_timeout_ms = 1).await;
    let r = app.send(csv_request("/v1/expenses/import", &tok, "text/csv", csv.replace("Uber", "Ola"))).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
    assert!(r.headers.contains_key("retry-after"), "{:?}", r.headers);
}

#[tokio::test]
async fn csv_import_is_all_or_nothing_and_safe_to_send_again() {
    // The import's own body limit, above the other routes' 64 KiB.
    let app = TestApp::spawn_with(|c| c.api.import_max_bytes = 128 * 1024).await;
    let (tok, _) = app.signup("csv@example.com", "Asia/Kolkata").await;
    // 250 rows: three log records of up to 100 entries. Noon IST on a day of
    // October. The notes make the file larger than server.max_body_bytes.
    let note = "card statement line ".repeat(12);
    let mut csv = String::from("occurred_at,amount,currency,merchant,note,category,kind,id\n");
    let (mut spent, mut earned) = (0i64, 0i64);
    for i in 0..250i64 {
        let minor = 1000 + i * 7;
        let day = 1 + i % 28;
        if i % 50 == 49 {
            csv.push_str(&format!(
                "2026-10-{day:02}T06:30:00Z,{}.{:02},INR,Acme Payroll,salary,,income,\n",
                minor / 100,
                minor % 100
            ));
            earned += minor;
        } else {
            csv.push_str(&format!(
                "2026-10-{day:02}T06:30:00Z,{}.{:02},INR,Swiggy,{note},,,\n",
                minor / 100,
                minor % 100
            ));
            spent += minor;
        }
    }
    assert!((64 * 1024..128 * 1024).contains(&csv.len()), "{} bytes", csv.len());
    let r = app.send(csv_request("/v1/expenses/import", &tok, "text/csv", csv.clone())).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["imported"], 250);
    assert_eq!(r.body["processed"], true, "answered once the processors took every row in");
    let month = app.call("GET", "/v1/reports?period=month&date=2026-10-15", Some(&tok), None).await;
    assert_eq!(month.body["count"], 250, "{}", month.body);
    assert_eq!(month.body["spent"]["minor"], spent);
    assert_eq!(month.body["income"]["minor"], earned, "{}", month.body);
    let list = app.call("GET", "/v1/expenses?limit=1&q=Swiggy", Some(&tok), None).await;
    assert_eq!(list.body["entries"][0]["category"], "food_dining", "{}", list.body);
    assert_eq!(list.body["entries"][0]["source"], "import", "{}", list.body);

    // The same file again (a retry after a lost answer) stores nothing twice.
    let again = app.send(csv_request("/v1/expenses/import", &tok, "text/csv; charset=utf-8", csv.clone())).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
    let month = app.call("GET", "/v1/reports?period=month&date=2026-10-15", Some(&tok), None).await;
    assert_eq!(month.body["count"], 250, "{}", month.body);
    assert_eq!(month.body["spent"]["minor"], spent);

    // One bad row: nothing of the file is stored, and the answer names the line.
    let bad = "occurred_at,amount,merchant\n2026-10-02,12.50,Uber\n2026-10-03,twelve,Uber\n2026-10-04,9,Uber,extra\n";
    let r = app.send(csv_request("/v1/expenses/import", &tok, "text/csv", bad.into())).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let message = r.body["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("2 of 3 rows refused, nothing imported"), "{message}");
    assert!(message.contains("line 3: amount"), "{message}");
    assert!(message.contains("line 4:"), "{message}");
    let uber = app.call("GET", "/v1/expenses?q=Uber", Some(&tok), None).await;
    assert_eq!(uber.body["entries"].as_array().unwrap().len(), 0, "{}", uber.body);

    let r = app.send(csv_request("/v1/expenses/import", &tok, "application/json", csv.clone())).await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", r.body);
    let r = app.send(csv_request("/v1/expenses/import", &tok, "text/csv", "occurred_at,amount\n".into())).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let big = csv.repeat(2);
    let r = app.send(csv_request("/v1/expenses/import", &tok, "text/csv", big)).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    assert!(r.body["error"]["message"].as_str().unwrap().contains("131072"), "{}", r.body);
    let r = app.send(csv_request("/v1/expenses/import", "not.a.token", "text/csv", csv)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}
