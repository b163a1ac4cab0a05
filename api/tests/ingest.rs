//! Bank SMS from the phone, as a user sets it up: an API token for the
//! forwarder, messages in, entries, duplicates, unparsed messages, bills.

#![allow(clippy::unwrap_used)]

use axum::http::StatusCode;
use serde_json::{Value, json};
use spendstream_core::config::IngestConfig;
use spendstream_core::inbox::SmsStatus;
use spendstream_ingest::pipeline::{SmsIngest, load_rules};
use spendstream_ingest::sms::{SHIPPED_TOML, SmsRules};
use spendstream_testkit::TestApp;
use std::sync::Arc;

const HDFC_UPI: &str = "Sent Rs.450.00\nFrom HDFC Bank A/C *4821\nTo ZOMATO LIMITED\nOn 14/03/25\nRef 507312345678\nNot You?\nCall 18002586161/SMS BLOCK UPI to 7308080808";
const GPAY_SAME_REF: &str = "You paid ₹450.00 to Zomato. UPI Ref No. 507312345678";
const HDFC_CARD: &str = "Spent Rs.2,340.00 On HDFC Bank Card 7712 At AMAZON PAY INDIA On 2024-11-08:19:42:11.Not You? To Block+Reissue Call 18002586161";
const AMZ_SAME_TXN: &str = "Rs.2,340.00 debited from HDFC Card XX7712 at Amazon Pay India";
const OTP: &str = "482913 is OTP for txn of INR 2,340.00 at AMAZON PAY INDIA on HDFC Bank card ending 7712. Valid till 19:45. Do not share OTP for security reasons";
const BILL: &str = "HDFC Bank Credit Card XX7712 Statement: Total Amt Due Rs.18,450.00; Min Amt Due Rs.920.00; Payment Due Date 05-03-2025. Pay now via NetBanking/PayZapp.";
const CARD_PAYMENT: &str = "Dear Cardmember, Payment of Rs 18,450.00 has been credited to your HDFC Bank Credit Card XX7712 on 04-03-2025. Thank you for the payment.";
const UNREAD: &str = "Acct 3321: Cafe Nero took Rs 780 today";

/// Signs up and creates an `ingest:sms` token; returns (access token, API token).
async fn user_with_token(app: &TestApp, email: &str) -> (String, String) {
    let (access, _) = app.signup(email, "Asia/Kolkata").await;
    let r = app.call("POST", "/v1/tokens", Some(&access), Some(json!({"name": "Pixel SMS forwarder"}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    (access, r.body["token"].as_str().unwrap().to_owned())
}

async fn sms(app: &TestApp, token: &str, sender: &str, body: &str, received_at: Value) -> Value {
    let r = app
        .call(
            "POST",
            "/v1/ingest/sms",
            Some(token),
            Some(json!({"sender": sender, "body": body, "received_at": received_at})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["results"][0].clone()
}

async fn entry_count(app: &TestApp, access: &str) -> usize {
    let r = app.call("GET", "/v1/expenses?limit=500", Some(access), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["entries"].as_array().unwrap().len()
}

#[tokio::test]
async fn api_tokens_are_created_listed_scoped_and_revoked() {
    let app = TestApp::spawn().await;
    let (access, token) = user_with_token(&app, "ana@example.com").await;
    assert!(token.starts_with("sst_"), "{token}");

    let list = app.call("GET", "/v1/tokens", Some(&access), None).await;
    assert_eq!(list.status, StatusCode::OK);
    let tokens = list.body.as_array().unwrap();
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0]["scope"], "ingest:sms");
    assert_eq!(tokens[0]["name"], "Pixel SMS forwarder");
    assert!(!list.body.to_string().contains(&token), "the secret is never listed");
    let id = tokens[0]["id"].as_str().unwrap().to_owned();

    // The token posts SMS and nothing else.
    let r = sms(&app, &token, "VM-HDFCBK", HDFC_UPI, json!("2025-03-14T10:00:00+05:30")).await;
    assert_eq!(r["status"], "entered", "{r}");
    let other = app.call("GET", "/v1/expenses", Some(&token), None).await;
    assert_eq!(other.status, StatusCode::FORBIDDEN, "{}", other.body);
    assert_eq!(app.call("GET", "/v1/tokens", Some(&token), None).await.status, StatusCode::FORBIDDEN);
    let used = app.call("GET", "/v1/tokens", Some(&access), None).await;
    assert!(used.body[0]["last_used_at"].is_string(), "{}", used.body);

    // Bad requests name the field.
    for (body, field) in [
        (json!({"name": ""}), "name"),
        (json!({"name": "x".repeat(101)}), "name"),
        (json!({"name": "phone", "scope": "admin"}), "scope"),
    ] {
        let r = app.call("POST", "/v1/tokens", Some(&access), Some(body)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert_eq!(r.body["error"]["field"], field);
    }

    // Another user can neither see nor revoke it.
    let (bob, _) = app.signup("bob@example.com", "UTC").await;
    assert_eq!(app.call("GET", "/v1/tokens", Some(&bob), None).await.body, json!([]));
    let path = format!("/v1/tokens/{id}");
    assert_eq!(app.call("DELETE", &path, Some(&bob), None).await.status, StatusCode::NOT_FOUND);

    // Revoked: the phone is locked out at once.
    assert_eq!(app.call("DELETE", &path, Some(&access), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.call("DELETE", &path, Some(&access), None).await.status, StatusCode::NOT_FOUND);
    let after =
        app.call("POST", "/v1/ingest/sms", Some(&token), Some(json!({"sender": "VM-HDFCBK", "body": HDFC_CARD}))).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED, "{}", after.body);
    assert_eq!(app.call("GET", "/v1/tokens", Some(&access), None).await.body, json!([]));
}

#[tokio::test]
async fn a_bank_sms_becomes_a_categorised_entry_with_its_text() {
    let app = TestApp::spawn().await;
    let (access, token) = user_with_token(&app, "ana@example.com").await;
    // Android forwarders send the receive time as epoch milliseconds.
    let r = sms(&app, &token, "VM-HDFCBK", HDFC_UPI, json!(1_741_926_600_000_i64)).await;
    assert_eq!(r["status"], "entered", "{r}");
    assert_eq!(r["class"], "transaction");
    assert_eq!(r["seen_before"], false);
    let id = r["entry_id"].as_str().unwrap();

    let e = app.call("GET", &format!("/v1/expenses/{id}"), Some(&access), None).await;
    assert_eq!(e.status, StatusCode::OK, "{}", e.body);
    assert_eq!(e.body["source"], "sms");
    assert_eq!(e.body["amount"], "450.00");
    assert_eq!(e.body["kind"], "expense");
    assert_eq!(e.body["merchant"], "Zomato");
    assert_eq!(e.body["category"], "food_dining", "{}", e.body);
    assert_eq!(e.body["sms"]["text"], HDFC_UPI);
    assert_eq!(e.body["sms"]["sender"], "VM-HDFCBK");
    assert_eq!(e.body["sms"]["reference"], "507312345678");
    assert_eq!(e.body["sms"]["account_last4"], "4821");
    assert_eq!(e.body["sms"]["channel"], "upi");
    // Dated 14/03/25 in the message and received that day: it counts in March.
    let month = app.call("GET", "/v1/reports?period=month&date=2025-03-01", Some(&access), None).await;
    assert_eq!(month.body["spent"]["minor"], 45000, "{}", month.body);
}

#[tokio::test]
async fn the_same_sms_twice_and_one_transaction_in_two_messages_are_one_entry() {
    let app = TestApp::spawn().await;
    let (access, token) = user_with_token(&app, "ana@example.com").await;
    let first = sms(&app, &token, "VM-HDFCBK", HDFC_UPI, json!("2025-03-14T10:00:00.120Z")).await;
    assert_eq!(first["status"], "entered");
    // A second forwarder on the same phone: same SMS, a slightly different receive time.
    let again = sms(&app, &token, "vm-hdfcbk", HDFC_UPI, json!("2025-03-14T10:00:01.980Z")).await;
    assert_eq!(again["seen_before"], true, "{again}");
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["entry_id"], first["entry_id"]);
    // The UPI app's message about the same payment carries the same reference.
    let upi = sms(&app, &token, "JD-GPAY", GPAY_SAME_REF, json!("2025-03-14T10:00:03Z")).await;
    assert_eq!(upi["status"], "duplicate", "{upi}");
    assert_eq!(upi["entry_id"], first["entry_id"]);
    // No reference, but the same amount and card within the minute.
    let card = sms(&app, &token, "VM-HDFCBK", HDFC_CARD, json!("2024-11-08T14:12:11Z")).await;
    assert_eq!(card["status"], "entered", "{card}");
    let amz = sms(&app, &token, "AD-AMZPAY", AMZ_SAME_TXN, json!("2024-11-08T14:12:40Z")).await;
    assert_eq!(amz["status"], "duplicate", "{amz}");
    assert_eq!(amz["entry_id"], card["entry_id"]);
    // The same amount on the same card an hour later is a new purchase.
    let later = sms(&app, &token, "AD-AMZPAY", &format!("{AMZ_SAME_TXN}."), json!("2024-11-08T15:20:00Z")).await;
    assert_eq!(later["status"], "entered", "{later}");
    assert_eq!(entry_count(&app, &access).await, 3);
}

#[tokio::test]
async fn otps_and_offers_never_become_entries_and_an_otp_text_is_not_kept() {
    let app = TestApp::spawn().await;
    let (access, token) = user_with_token(&app, "ana@example.com").await;
    let r = sms(&app, &token, "AD-HDFCBK", OTP, Value::Null).await;
    assert_eq!(r["status"], "ignored", "{r}");
    assert_eq!(r["class"], "otp");
    assert!(r["entry_id"].is_null());
    assert_eq!(entry_count(&app, &access).await, 0);
    let unparsed = app.call("GET", "/v1/ingest/unparsed", Some(&access), None).await;
    assert_eq!(unparsed.body["messages"], json!([]));
    assert!(!unparsed.body.to_string().contains("482913"));
    // The inbox keeps that an OTP arrived, not its text.
    let me = app.call("GET", "/v1/me", Some(&access), None).await;
    let uid = spendstream_core::UserId(me.body["id"].as_str().unwrap().parse().unwrap());
    let kept = app.ports.inbox.items(uid, SmsStatus::Ignored, None, 10).await.unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].class, "otp");
    assert!(kept[0].body.is_empty(), "{:?}", kept[0].body);
}

#[tokio::test]
async fn unparsed_messages_are_kept_and_become_entries_when_templates_learn_them() {
    let app = TestApp::spawn().await;
    let (access, token) = user_with_token(&app, "ana@example.com").await;
    let r = sms(&app, &token, "BK-FOOBNK", UNREAD, json!("2025-05-02T08:00:00Z")).await;
    assert_eq!(r["status"], "unparsed", "{r}");
    assert!(r["reason"].as_str().unwrap().contains("no template"), "{r}");
    let list = app.call("GET", "/v1/ingest/unparsed", Some(&access), None).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.body["messages"][0]["body"], UNREAD);
    assert_eq!(list.body["messages"][0]["sender"], "BK-FOOBNK");
    assert_eq!(entry_count(&app, &access).await, 0);
    // Posting it again changes nothing.
    assert_eq!(sms(&app, &token, "BK-FOOBNK", UNREAD, json!("2025-05-02T08:00:09Z")).await["seen_before"], true);

    // The shipped templates read nothing new: reparse leaves it.
    let ingest =
        |rules: Arc<SmsRules>| SmsIngest::new(rules, app.ports.log.clone(), app.ports.inbox.clone(), &ingest_config());
    let stats = ingest(load_rules(&ingest_config()).unwrap()).reparse(app.ports.accounts.as_ref()).await.unwrap();
    assert_eq!((stats.examined, stats.unparsed, stats.entered), (1, 1, 0));

    // A template added in config reads it.
    let extra = r#"
[[templates]]
name = "foobank-took"
keywords = ["took"]
pattern = '\bAcct\s+(?P<account>\d{4}):\s+(?P<merchant>[^\n]+?)\s+took\s+{{money}}'
direction = "debit"
kind = "card"
"#;
    let rules = Arc::new(SmsRules::from_toml_str(&format!("{SHIPPED_TOML}\n{extra}")).unwrap());
    let stats = ingest(rules).reparse(app.ports.accounts.as_ref()).await.unwrap();
    assert_eq!((stats.examined, stats.entered, stats.unparsed), (1, 1, 0), "{stats:?}");
    let last = stats.last_position.expect("an entry was appended");
    assert!(app.ports.store.wait_applied(last, std::time::Duration::from_secs(10)).await);
    let e = app.call("GET", "/v1/expenses", Some(&access), None).await.body["entries"].as_array().unwrap().clone();
    assert_eq!(e.len(), 1);
    assert_eq!(e[0]["merchant"], "Cafe Nero");
    assert_eq!(e[0]["amount"], "780.00");
    assert_eq!(e[0]["sms"]["text"], UNREAD);
    let list = app.call("GET", "/v1/ingest/unparsed", Some(&access), None).await;
    assert_eq!(list.body["messages"], json!([]));
}

#[tokio::test]
async fn bill_reminders_are_listed_and_marked_paid_by_the_card_payment() {
    let app = TestApp::spawn().await;
    let (access, token) = user_with_token(&app, "ana@example.com").await;
    let r = sms(&app, &token, "VM-HDFCBK", BILL, json!("2025-02-20T09:00:00Z")).await;
    assert_eq!(r["status"], "bill", "{r}");
    let bills = app.call("GET", "/v1/bills", Some(&access), None).await;
    assert_eq!(bills.status, StatusCode::OK);
    let b = &bills.body[0];
    assert_eq!(b["status"], "due", "{b}");
    assert_eq!(b["amount_due"], "18450.00");
    assert_eq!(b["min_due"], "920.00");
    assert_eq!(b["due_date"], "2025-03-05");
    assert_eq!(b["account_last4"], "7712");
    // A reminder of the same statement updates the bill, not a second one.
    let again = "Reminder: HDFC Bank Credit Card XX7712 Statement: Total Amt Due Rs.18,450.00; Min Amt Due Rs.920.00; Payment Due Date 05-03-2025.";
    assert_eq!(sms(&app, &token, "VM-HDFCBK", again, json!("2025-03-02T09:00:00Z")).await["status"], "bill");
    assert_eq!(app.call("GET", "/v1/bills", Some(&access), None).await.body.as_array().unwrap().len(), 1);

    let paid = sms(&app, &token, "VM-HDFCBK", CARD_PAYMENT, json!("2025-03-04T11:00:00Z")).await;
    assert_eq!(paid["status"], "entered", "{paid}");
    let bills = app.call("GET", "/v1/bills", Some(&access), None).await;
    assert_eq!(bills.body[0]["status"], "paid", "{}", bills.body);
    assert_eq!(bills.body[0]["paid_by"], paid["entry_id"]);

    let (bob, _) = app.signup("bob@example.com", "UTC").await;
    assert_eq!(app.call("GET", "/v1/bills", Some(&bob), None).await.body, json!([]));
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx_and_a_batch_keeps_its_good_messages() {
    let app = TestApp::spawn().await;
    let (access, token) = user_with_token(&app, "ana@example.com").await;
    let post = |body: Value| {
        let (app, token) = (&app, token.clone());
        async move { app.call("POST", "/v1/ingest/sms", Some(&token), Some(body)).await }
    };
    for (body, field) in [
        (json!({"sender": "VM-HDFCBK", "body": ""}), "body"),
        (json!({"sender": "VM-HDFCBK", "body": "x".repeat(2049)}), "body"),
        (json!({"sender": "VM-HDFCBK", "body": "Rs 5\u{0}debited"}), "body"),
        (json!({"sender": "", "body": HDFC_UPI}), "sender"),
        (json!({"sender": "VM-HDFCBK", "body": HDFC_UPI, "received_at": "yesterday"}), "received_at"),
        (json!({"sender": "VM-HDFCBK", "body": HDFC_UPI, "received_at": "2999-01-01T00:00:00Z"}), "received_at"),
        (json!({"messages": []}), "messages"),
    ] {
        let r = post(body.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.body);
        assert_eq!(r.body["error"]["field"], field, "{}", r.body);
    }
    let r = post(json!({"sender": "VM-HDFCBK", "body": HDFC_UPI, "extra": 1})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let too_many: Vec<Value> = (0..101).map(|i| json!({"sender": "X", "body": format!("hello {i}")})).collect();
    assert_eq!(post(json!({ "messages": too_many })).await.status, StatusCode::BAD_REQUEST);
    let junk = app.call("POST", "/v1/ingest/sms", Some(&token), None).await;
    assert!(junk.status.is_client_error(), "{}", junk.status);

    // Emoji, mixed scripts, absurd numbers: an answer, never a 5xx.
    let batch = json!({"messages": [
        {"sender": "VM-HDFCBK", "body": HDFC_UPI, "received_at": "2025-03-14T10:00:00Z"},
        {"sender": "VM-HDFCBK", "body": ""},
        {"sender": "FRIEND", "body": "🎉🎉 पार्टी tonight? ₹₹₹ 😀"},
        {"sender": "VM-HDFCBK", "body": "Rs.999999999999999999999999999.00 debited from A/c XX1234"},
        {"sender": "VM-HDFCBK", "body": "Spent Rs.2,340.00 On HDFC Bank Card 7712", "received_at": {"bad": true}},
    ]});
    let r = post(batch).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let res = r.body["results"].as_array().unwrap();
    assert_eq!(res.len(), 5);
    assert_eq!(res[0]["status"], "entered");
    assert_eq!(res[1]["status"], "rejected");
    assert!(res[1]["reason"].as_str().unwrap().contains("empty"), "{}", res[1]);
    assert_eq!(res[2]["status"], "ignored");
    assert_ne!(res[3]["status"], "entered", "an absurd amount never becomes an entry: {}", res[3]);
    assert_eq!(res[4]["status"], "rejected");
    assert_eq!(entry_count(&app, &access).await, 1);
}

fn ingest_config() -> IngestConfig {
    spendstream_testkit::test_config(std::path::Path::new("/unused")).ingest
}
