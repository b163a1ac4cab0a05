//! Recategorising and learning, budgets, and risk alerts through the REST API,
//! as a user would try them; and that a restart or a full replay of the log
//! keeps them without firing an alert twice.

#![allow(clippy::unwrap_used)]

use axum::http::StatusCode;
use serde_json::{Value, json};
use spendstream_core::ports::Position;
use spendstream_testkit::TestApp;
use std::time::Duration;

async fn patch_category(app: &TestApp, tok: &str, id: &str, category: &str, past: bool) -> Value {
    let r = app
        .call(
            "PATCH",
            &format!("/v1/expenses/{id}"),
            Some(tok),
            Some(json!({"category": category, "apply_to_past": past})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body
}

async fn get_entry(app: &TestApp, tok: &str, id: &Value) -> Value {
    let r = app.call("GET", &format!("/v1/expenses/{}", id.as_str().unwrap()), Some(tok), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body
}

/// Stops the app, deletes its store (snapshot included) and starts it again,
/// waiting until the whole log has been processed again.
async fn replay_from_scratch(app: TestApp) -> TestApp {
    let config = (*app.state.config).clone();
    let dir = app.stop().await;
    std::fs::remove_dir_all(dir.path().join("store")).unwrap();
    let app = TestApp::start(config, dir).await;
    let head = app.ports.log_head.unwrap();
    let last = Position { partition: 0, offset: head - 1 };
    assert!(app.ports.store.wait_applied(last, Duration::from_secs(10)).await);
    app
}

#[tokio::test]
async fn a_correction_moves_the_entry_and_teaches_the_merchant() {
    let app = TestApp::spawn().await;
    let (tok, _) = app.signup("learn@example.com", "Asia/Kolkata").await;
    let old1 = app.add(&tok, json!({"amount": "120", "merchant": "Chai Point", "occurred_at": "2026-10-01"})).await;
    let old2 = app.add(&tok, json!({"amount": "90", "merchant": "CHAI POINT 0112", "occurred_at": "2026-10-02"})).await;
    let mine = app
        .add(&tok, json!({"amount": "60", "merchant": "Chai Point", "category": "gifts_donations", "occurred_at": "2026-10-03"}))
        .await;
    let fixed = app.add(&tok, json!({"amount": "110", "merchant": "Chai Point", "occurred_at": "2026-10-04"})).await;

    let body = patch_category(&app, &tok, fixed["id"].as_str().unwrap(), "groceries", false).await;
    assert_eq!(body["category"], "groceries");
    assert_eq!(body["category_source"], "user");
    // Without apply_to_past the earlier ones stay.
    assert_ne!(get_entry(&app, &tok, &old1["id"]).await["category"], "groceries");

    // A later entry from the merchant follows, and says why.
    let later = app.add(&tok, json!({"amount": "80", "merchant": "chai point", "occurred_at": "2026-10-05"})).await;
    assert_eq!(later["category"], "groceries", "{later}");
    assert_eq!(later["category_source"], "learned");
    let reason = later["category_reason"].as_str().unwrap();
    assert!(reason.contains(fixed["id"].as_str().unwrap()), "{reason}");

    // The rule's words beginning a longer merchant string count too.
    let order =
        app.add(&tok, json!({"amount": "70", "merchant": "CHAI POINT*ORDER 5521", "occurred_at": "2026-10-06"})).await;
    assert_eq!(order["category"], "groceries", "{order}");

    // On request the past ones move too, but never one the user set.
    patch_category(&app, &tok, fixed["id"].as_str().unwrap(), "food_dining", true).await;
    for e in [&old1, &old2, &later, &order] {
        let got = get_entry(&app, &tok, &e["id"]).await;
        assert_eq!(got["category"], "food_dining", "{got}");
        assert_eq!(got["category_source"], "learned");
    }
    assert_eq!(get_entry(&app, &tok, &mine["id"]).await["category"], "gifts_donations");
    let report = app.call("GET", "/v1/reports?period=month&date=2026-10-10", Some(&tok), None).await.body;
    let food = report["categories"].as_array().unwrap().iter().find(|c| c["category"] == "food_dining").unwrap();
    assert_eq!(food["count"], 5, "{report}");

    // What was learned is listed: one rule per merchant, the latest correction.
    let rules = app.call("GET", "/v1/rules", Some(&tok), None).await;
    assert_eq!(rules.status, StatusCode::OK);
    assert_eq!(rules.body.as_array().unwrap().len(), 1, "{}", rules.body);
    assert_eq!(rules.body[0]["merchant"], "chai point");
    assert_eq!(rules.body[0]["category"], "food_dining");
    assert_eq!(rules.body[0]["from_entry"], fixed["id"]);

    // A full replay of the log into an empty store gives the same categories.
    let ids = [&old1, &old2, &mine, &fixed, &later];
    let mut before = Vec::new();
    for e in ids {
        before.push(get_entry(&app, &tok, &e["id"]).await);
    }
    let app = replay_from_scratch(app).await;
    for (e, was) in ids.iter().zip(&before) {
        let now = get_entry(&app, &tok, &e["id"]).await;
        for field in ["category", "category_source", "category_reason"] {
            assert_eq!(now[field], was[field], "{field} after a replay: {now}");
        }
    }

    // Clear errors.
    let bad = app
        .call(
            "PATCH",
            &format!("/v1/expenses/{}", fixed["id"].as_str().unwrap()),
            Some(&tok),
            Some(json!({"category": "nope"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.body["error"]["field"], "category");
    let (other, _) = app.signup("other@example.com", "UTC").await;
    let theirs = app
        .call(
            "PATCH",
            &format!("/v1/expenses/{}", fixed["id"].as_str().unwrap()),
            Some(&other),
            Some(json!({"category": "rent"})),
        )
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn budgets_are_set_shown_in_reports_changed_and_removed() {
    let app = TestApp::spawn().await;
    let (tok, _) = app.signup("budget@example.com", "Asia/Kolkata").await;
    let r = app
        .call(
            "POST",
            "/v1/budgets",
            Some(&tok),
            Some(json!({"category": "food_dining", "period": "month", "amount": "10000"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(r.body["limit"]["value"], "10000.00");
    assert_eq!(r.body["name"], "Food & dining");

    let dup = app
        .call(
            "POST",
            "/v1/budgets",
            Some(&tok),
            Some(json!({"category": "food_dining", "period": "month", "amount": "5"})),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT, "{}", dup.body);
    for (body, field) in [
        (json!({"period": "fortnight", "amount": "5"}), "period"),
        (json!({"period": "month", "amount": "-5"}), "amount"),
        (json!({"period": "week", "amount": "5", "start_day": 3}), "start_day"),
        (json!({"period": "month", "amount": "5", "category": "yachts"}), "category"),
    ] {
        let r = app.call("POST", "/v1/budgets", Some(&tok), Some(body)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert_eq!(r.body["error"]["field"], field, "{}", r.body);
    }
    // An overall budget from payday, the 25th.
    let r = app
        .call("POST", "/v1/budgets", Some(&tok), Some(json!({"period": "month", "amount": "50000", "start_day": 25})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

    for (amount, merchant, day) in
        [("2500", "Swiggy", "2026-10-03"), ("1500", "Zomato", "2026-10-20"), ("900", "Croma", "2026-10-26")]
    {
        app.add(&tok, json!({"amount": amount, "merchant": merchant, "occurred_at": day})).await;
    }
    let list = app.call("GET", "/v1/budgets?date=2026-10-15", Some(&tok), None).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let all = list.body.as_array().unwrap();
    let food = all.iter().find(|b| b["id"] == id.as_str()).unwrap();
    assert_eq!(food["spent"]["value"], "4000.00");
    assert_eq!(food["left"]["value"], "6000.00");
    assert_eq!(food["share_used"], "40.0");
    assert_eq!((food["start"].as_str(), food["end"].as_str()), (Some("2026-10-01"), Some("2026-10-31")));
    let overall = all.iter().find(|b| b["category"].is_null()).unwrap();
    // 25 Sep to 24 Oct: the 26 Oct purchase belongs to the next one.
    assert_eq!((overall["start"].as_str(), overall["end"].as_str()), (Some("2026-09-25"), Some("2026-10-24")));
    assert_eq!(overall["spent"]["value"], "4000.00");

    let report = app.call("GET", "/v1/reports?period=month&date=2026-10-15", Some(&tok), None).await.body;
    let budgets = report["budgets"].as_array().unwrap();
    assert_eq!(budgets.len(), 2, "{report}");
    assert!(budgets.iter().any(|b| b["id"] == id.as_str() && b["spent"]["value"] == "4000.00"));
    let week = app.call("GET", "/v1/reports?period=week&date=2026-10-15", Some(&tok), None).await.body;
    assert_eq!(week["budgets"].as_array().unwrap().len(), 0, "monthly budgets are not in weekly reports");

    let r = app.call("PATCH", &format!("/v1/budgets/{id}"), Some(&tok), Some(json!({"amount": "8000"}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["limit"]["value"], "8000.00");
    let report2 = app.call("GET", "/v1/reports?period=month&date=2026-10-15", Some(&tok), None).await.body;
    let food = report2["budgets"].as_array().unwrap().iter().find(|b| b["id"] == id.as_str()).unwrap().clone();
    assert_eq!(food["share_used"], "50.0", "the cached report was not served after the change");

    let r = app.call("DELETE", &format!("/v1/budgets/{id}"), Some(&tok), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app.call("GET", &format!("/v1/budgets/{id}"), Some(&tok), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app.call("DELETE", &format!("/v1/budgets/{id}"), Some(&tok), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

async fn alerts(app: &TestApp, tok: &str, query: &str) -> Vec<Value> {
    let r = app.call("GET", &format!("/v1/alerts{query}"), Some(tok), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body.as_array().unwrap().clone()
}

#[tokio::test]
async fn alerts_show_at_once_hide_when_acknowledged_and_survive_replays() {
    let app = TestApp::spawn().await;
    let (tok, _) = app.signup("alert@example.com", "Asia/Kolkata").await;
    app.add(&tok, json!({"amount": "300", "merchant": "Reliance Digital"})).await;
    // The POST answers after processing: the alert is there when it returns.
    app.add(&tok, json!({"amount": "40000", "merchant": "Reliance Digital"})).await;
    let list = alerts(&app, &tok, "").await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["rule"], "large_debit");
    assert_eq!(list[0]["severity"], "warning");
    assert_eq!(list[0]["message"], "Large payment: 40,000.00 at Reliance Digital.");
    assert_eq!(list[0]["numbers"]["threshold"], "25,000.00");
    let first_id = list[0]["id"].as_str().unwrap().to_owned();

    app.add(&tok, json!({"amount": "9000", "merchant": "Tanishq"})).await;
    let list = alerts(&app, &tok, "").await;
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["rule"], "new_merchant_large", "newest first: {list:?}");

    let ack = app.call("POST", &format!("/v1/alerts/{first_id}/ack"), Some(&tok), None).await;
    assert_eq!(ack.status, StatusCode::NO_CONTENT, "{}", ack.body);
    let again = app.call("POST", &format!("/v1/alerts/{first_id}/ack"), Some(&tok), None).await;
    assert_eq!(again.status, StatusCode::NO_CONTENT);
    assert_eq!(alerts(&app, &tok, "").await.len(), 1);
    let everything = alerts(&app, &tok, "?include_acknowledged=true").await;
    assert_eq!(everything.len(), 2);
    assert!(everything.iter().any(|a| a["id"] == first_id.as_str() && a["acknowledged_at"].is_string()));
    let (other, _) = app.signup("nosy@example.com", "UTC").await;
    let r = app.call("POST", &format!("/v1/alerts/{first_id}/ack"), Some(&other), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(alerts(&app, &other, "").await.is_empty());

    // Restart, then replay the whole log into an empty store: the same two
    // alerts, the acknowledgement kept, nothing raised twice.
    let app = replay_from_scratch(app).await;
    let everything = alerts(&app, &tok, "?include_acknowledged=true").await;
    assert_eq!(everything.len(), 2, "{everything:?}");
    assert_eq!(alerts(&app, &tok, "").await.len(), 1);
}

#[tokio::test]
async fn tips_and_recurring_charges_come_with_the_users_numbers() {
    let app = TestApp::spawn().await;
    let (tok, _) = app.signup("tips@example.com", "Asia/Kolkata").await;
    for month in 6..=10 {
        let day = format!("2026-{month:02}-05");
        app.add(&tok, json!({"amount": "649", "merchant": "Netflix", "occurred_at": day})).await;
        app.add(&tok, json!({"amount": "199", "merchant": "Spotify", "occurred_at": format!("2026-{month:02}-12")}))
            .await;
    }
    // October: food is most of the spending; September it was small.
    for (amount, merchant, day) in [
        ("2400", "Swiggy", "2026-10-02"),
        ("1800", "Zomato", "2026-10-09"),
        ("2040", "Swiggy", "2026-10-16"),
        ("300", "Swiggy", "2026-09-16"),
        ("1200", "BigBasket", "2026-10-20"),
    ] {
        app.add(&tok, json!({"amount": amount, "merchant": merchant, "occurred_at": day})).await;
    }

    let r = app.call("GET", "/v1/recurring?date=2026-10-20", Some(&tok), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let list = r.body["recurring"].as_array().unwrap();
    let merchants: Vec<&str> = list.iter().map(|x| x["merchant"].as_str().unwrap()).collect();
    assert_eq!(merchants, ["Netflix", "Spotify"], "{}", r.body);
    assert_eq!(list[0]["cadence"], "monthly");
    assert_eq!(list[0]["next_expected"], "2026-11-05");
    assert_eq!(r.body["monthly_total"], "848.00");
    let r = app.call("GET", "/v1/recurring?date=someday", Some(&tok), None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    let r = app.call("GET", "/v1/tips?period=month&date=2026-10-15", Some(&tok), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!((r.body["start"].as_str(), r.body["end"].as_str()), (Some("2026-10-01"), Some("2026-10-31")));
    let tips = r.body["tips"].as_array().unwrap();
    let share = tips.iter().find(|t| t["rule"] == "category_share").unwrap_or_else(|| panic!("{}", r.body));
    // Food 6,240 of 8,288 spent in October: 75.3%; September 300 of 1,148: 26.1%.
    assert_eq!(share["numbers"]["share"], "75.3", "{share}");
    assert_eq!(share["numbers"]["previous_share"], "26.1", "{share}");
    assert!(
        share["message"].as_str().unwrap().starts_with("Food & dining was 75.3% of your spending this month, 6,240.00"),
        "{share}"
    );
    let impacts: Vec<i64> = tips.iter().map(|t| t["impact_minor"].as_i64().unwrap()).collect();
    assert!(impacts.windows(2).all(|w| w[0] >= w[1]), "ranked by impact: {impacts:?}");
    let bad = app.call("GET", "/v1/tips?period=decade", Some(&tok), None).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.body["error"]["field"], "period");
}
