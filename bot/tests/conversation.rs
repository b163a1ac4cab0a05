//! Conversations with the engine over the real embedded pipeline (event log,
//! processors, store, SQLite accounts and chats) in a temp dir; the API of the same
//! pipeline checks what the chat did.

mod common;

use axum::http::StatusCode;
use common::engine;
use jiff::Timestamp;
use spendstream_bot::{Engine, EngineError, Incoming, Input, Reply};
use spendstream_core::chats::{Channel, ChatKey};
use spendstream_testkit::TestApp;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// One chat, numbering its messages.
struct Chat {
    engine: Arc<Engine>,
    key: ChatKey,
    next: AtomicU64,
}

impl Chat {
    fn new(engine: &Arc<Engine>, channel: Channel, id: &str) -> Self {
        Chat { engine: engine.clone(), key: ChatKey::new(channel, id).expect("key"), next: AtomicU64::new(1) }
    }

    fn message(&self, input: Input) -> Incoming {
        let id = self.next.fetch_add(1, Ordering::Relaxed).to_string();
        Incoming { chat: self.key.clone(), message_id: id, input, at: Timestamp::now() }
    }

    async fn send(&self, msg: &Incoming) -> Vec<Reply> {
        self.engine.handle(msg).await.unwrap_or_else(|e| panic!("{msg:?}: {e}"))
    }

    async fn say(&self, text: &str) -> Vec<Reply> {
        self.send(&self.message(Input::Text(text.to_owned()))).await
    }

    async fn press(&self, data: &str) -> Vec<Reply> {
        self.send(&self.message(Input::Button(data.to_owned()))).await
    }

    /// The text of the only reply.
    async fn say1(&self, text: &str) -> String {
        let replies = self.say(text).await;
        assert_eq!(replies.len(), 1, "{text:?} -> {replies:#?}");
        replies[0].text.clone()
    }

    /// Signs up with INR and Asia/Kolkata.
    async fn sign_up(&self) {
        let r = self.say("/start").await;
        assert!(r.last().is_some_and(|r| r.buttons.iter().any(|b| b.data == "cur:INR")), "{r:#?}");
        let r = self.press("cur:INR").await;
        assert!(r[0].buttons.iter().any(|b| b.data == "tz:UTC"), "{r:#?}");
        let r = self.say("Asia/Kolkata").await;
        assert!(r[0].text.contains("INR") && r[0].text.contains("Asia/Kolkata"), "{r:#?}");
    }
}

fn entry_id(reply: &Reply) -> String {
    let undo = reply.buttons.iter().find(|b| b.data.starts_with("u:")).unwrap_or_else(|| panic!("{reply:#?}"));
    undo.data[2..].to_owned()
}

async fn api_entries(app: &TestApp, token: &str) -> Vec<serde_json::Value> {
    let r = app.call("GET", "/v1/expenses?limit=100", Some(token), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["entries"].as_array().expect("entries").clone()
}

#[tokio::test]
async fn the_first_message_signs_up_and_is_added_once_the_account_exists() {
    let app = TestApp::spawn().await;
    let chat = Chat::new(&engine(&app), Channel::Telegram, "1001");
    let r = chat.say("spent 250 on lunch at subway").await;
    assert_eq!(r.len(), 2, "{r:#?}");
    assert!(r[1].text.contains("currency"), "{r:#?}");
    let codes: Vec<&str> = r[1].buttons.iter().map(|b| b.data.as_str()).collect();
    assert_eq!(codes[0], "cur:INR", "the configured default is the first guess");
    let r = chat.say("usd?").await;
    assert!(r[0].text.contains("don't know the currency 'usd?'"), "{r:#?}");
    let r = chat.say("eur").await;
    assert!(r[0].text.contains("time zone"), "{r:#?}");
    let r = chat.say("Mars/Olympus").await;
    assert!(r[0].text.contains("don't know the time zone"), "{r:#?}");
    let r = chat.say("europe/berlin").await;
    assert_eq!(r.len(), 2, "signed up, then the held message: {r:#?}");
    assert!(r[0].text.contains("EUR") && r[0].text.contains("Europe/Berlin"), "{r:#?}");
    assert!(r[1].text.starts_with("Added €250.00"), "{r:#?}");
    assert!(r[1].text.contains("Food"), "categorised as food: {r:#?}");
    assert!(r[1].text.ends_with("today"), "{r:#?}");

    let month = chat.say1("/month").await;
    assert!(month.contains("spent €250.00"), "{month}");
    assert!(month.contains("Food"), "{month}");
    let undone = chat.say1("/undo").await;
    assert!(undone.starts_with("Removed €250.00"), "{undone}");
    assert!(chat.say1("/month").await.contains("nothing spent yet"));
    assert_eq!(chat.say1("/undo").await, "There is nothing to undo.");
}

#[tokio::test]
async fn free_text_entries_are_confirmed_with_amount_category_and_day() {
    let app = TestApp::spawn().await;
    let chat = Chat::new(&engine(&app), Channel::Telegram, "1002");
    chat.sign_up().await;
    let cases = [
        ("spent 250 on lunch at subway", "Added ₹250.00", "Food", "today"),
        ("uber 180", "Added ₹180.00", "Transport", "today"),
        ("₹99 netflix yesterday", "Added ₹99.00", "Subscriptions", "yesterday"),
        ("coffee 4.50", "Added ₹4.50", "Food", "today"),
        ("2.5k groceries", "Added ₹2,500.00", "Groceries", "today"),
        ("got salary 85000", "Added income ₹85,000.00", "", "today"),
        ("paid 1,25,000 rent", "Added ₹1,25,000.00", "Rent", "today"),
        ("/add 40 chai", "Added ₹40.00", "", "today"),
    ];
    for (text, amount, category, day) in cases {
        let r = chat.say(text).await;
        assert_eq!(r.len(), 1, "{text}: {r:#?}");
        let t = &r[0].text;
        assert!(t.starts_with(amount) && t.contains(category) && t.ends_with(day), "{text}: {t}");
        let labels: Vec<&str> = r[0].buttons.iter().map(|b| b.label.as_str()).collect();
        assert_eq!(labels, ["Undo", "Change category"], "{text}");
    }
    let list = chat.say1("/list").await;
    assert_eq!(list.lines().count(), 1 + cases.len(), "{list}");
    assert!(list.contains("+₹85,000.00"), "income is marked: {list}");
}

#[tokio::test]
async fn ambiguous_or_unknown_messages_get_a_question_and_add_nothing() {
    let app = TestApp::spawn().await;
    let chat = Chat::new(&engine(&app), Channel::Telegram, "1003");
    chat.sign_up().await;
    let q = chat.say1("coffee 1.200").await;
    assert!(q.contains("1.20") || q.contains("1200"), "asks which: {q}");
    assert!(chat.say1("hello there").await.starts_with("Sorry, I didn't get that"));
    assert!(chat.say1("/frobnicate").await.starts_with("Sorry, I didn't get that"));
    assert_eq!(chat.say1("/list").await, "No entries yet. Tell me one: \"coffee 4.50\".");
}

#[tokio::test]
async fn a_redelivered_message_changes_nothing_and_gets_no_reply() {
    let app = TestApp::spawn().await;
    let chat = Chat::new(&engine(&app), Channel::Telegram, "1004");
    chat.sign_up().await;
    let add = chat.message(Input::Text("uber 180".into()));
    assert_eq!(chat.send(&add).await.len(), 1);
    assert!(chat.send(&add).await.is_empty(), "the same update id again");
    let undo = chat.message(Input::Text("/undo".into()));
    chat.say("uber 220").await;
    assert_eq!(chat.send(&undo).await.len(), 1);
    assert!(chat.send(&undo).await.is_empty(), "an /undo delivered twice undoes once");
    let list = chat.say1("/list").await;
    assert_eq!(list.lines().count(), 2, "one entry left: {list}");
    assert!(list.contains("₹180.00"), "{list}");
}

#[tokio::test]
async fn undo_and_category_buttons_change_the_entry_they_belong_to() {
    let app = TestApp::spawn().await;
    let chat = Chat::new(&engine(&app), Channel::Telegram, "1005");
    chat.sign_up().await;
    let first = chat.say("coffee 120").await;
    let second = chat.say("uber 300").await;
    let (coffee, uber) = (entry_id(&first[0]), entry_id(&second[0]));
    let choose = chat.press(&format!("c:{coffee}")).await;
    assert_eq!(choose[0].text, "Which category?");
    let gifts = format!("s:{coffee}:gifts_donations");
    assert!(choose[0].buttons.iter().any(|b| b.data == gifts), "{choose:#?}");
    let moved = chat.press(&gifts).await;
    assert!(moved[0].text.starts_with("Moved to") && moved[0].text.contains("₹120.00"), "{moved:#?}");
    let month = chat.say1("/month").await;
    assert!(month.contains("Gifts"), "the report follows the new category: {month}");
    let removed = chat.press(&format!("u:{coffee}")).await;
    assert!(removed[0].text.starts_with("Removed ₹120.00"), "{removed:#?}");
    assert_eq!(chat.press(&format!("u:{coffee}")).await[0].text, "That entry is already gone.");
    let list = chat.say1("/list").await;
    assert!(list.contains("₹300.00") && !list.contains("₹120.00"), "only the uber ride left: {list}");
    assert!(chat.press(&format!("s:{uber}:no_such_category")).await[0].text.contains("no category"));
}

async fn link_code(app: &TestApp, token: &str) -> String {
    let r = app.call("POST", "/v1/link-codes", Some(token), None).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert!(r.body["instructions"].as_str().expect("instructions").contains("/link "));
    r.body["code"].as_str().expect("code").to_owned()
}

#[tokio::test]
async fn link_codes_join_chats_to_an_api_account_once_each() {
    let app = TestApp::spawn().await;
    let engine = engine(&app);
    let (token, user_id) = app.signup("linker@example.com", "Asia/Kolkata").await;
    let (c1, c2) = (link_code(&app, &token).await, link_code(&app, &token).await);
    let tg = Chat::new(&engine, Channel::Telegram, "2001");
    let wa = Chat::new(&engine, Channel::Whatsapp, "919800000002");
    assert!(tg.say1(&format!("/link {}", c1.to_lowercase())).await.contains("linker@example.com"));
    assert!(wa.say1(&format!("/link {c2}")).await.contains("linked"));
    let stranger = Chat::new(&engine, Channel::Telegram, "2002");
    assert!(stranger.say1(&format!("/link {c1}")).await.starts_with("That code is not valid"), "used codes die");
    assert!(stranger.say1("/link").await.starts_with("Send /link followed by"));
    // Guessing is slowed: after five wrong codes in an hour even a good one waits.
    for i in 0..4 {
        assert!(stranger.say1(&format!("/link WRONG-{i:04}")).await.starts_with("That code is not valid"));
    }
    let good = link_code(&app, &token).await;
    assert!(stranger.say1(&format!("/link {good}")).await.starts_with("Too many wrong codes"));

    tg.say("uber 180").await;
    wa.say("coffee 90").await;
    let entries = api_entries(&app, &token).await;
    let mut amounts: Vec<&str> = entries.iter().map(|e| e["amount"].as_str().expect("amount")).collect();
    amounts.sort();
    assert_eq!(amounts, ["180.00", "90.00"], "both chats write to the API user's account");
    let uid = spendstream_core::UserId(uuid::Uuid::parse_str(&user_id).expect("uuid"));
    assert_eq!(app.ports.chats.chats_of(uid).await.expect("chats").len(), 2);

    assert!(wa.say1("/unlink").await.contains("no longer linked"));
    assert_eq!(app.ports.chats.chats_of(uid).await.expect("chats").len(), 1);
    let r = wa.say("coffee 50").await;
    assert!(r[0].text.starts_with("Hi!"), "an unlinked chat starts over: {r:#?}");
    assert_eq!(api_entries(&app, &token).await.len(), 2, "nothing added to the account after unlinking");
}

#[tokio::test]
async fn reports_and_questions_answer_for_the_period_asked() {
    let app = TestApp::spawn().await;
    let chat = Chat::new(&engine(&app), Channel::Telegram, "1006");
    chat.sign_up().await;
    chat.say("spent 250 on lunch").await;
    chat.say("uber 180").await;
    chat.say("dinner 400 yesterday").await;
    let today = chat.say1("/today").await;
    assert!(today.starts_with("Today: spent ₹430.00"), "{today}");
    let week = chat.say1("how much did I spend in the last 7 days?").await;
    assert!(week.starts_with("Last 7 days: spent ₹830.00"), "{week}");
    let food = chat.say1("how much did I spend on food this month?").await;
    // Yesterday may fall in last month on the 1st.
    assert!(food.contains("on 🍽️ Food & dining"), "{food}");
    assert!(food.contains("₹650.00") || food.contains("₹250.00"), "{food}");
    let year = chat.say1("/year").await;
    assert!(year.contains("spent ₹830.00") && year.contains("Top: "), "{year}");
    for command in ["/week", "/help", "/categories"] {
        assert!(!chat.say1(command).await.is_empty());
    }
    assert!(chat.say1("/categories").await.contains("(food_dining)"));
    assert!(chat.say1("/week last").await.starts_with("Last week: "));
    let october = chat.say1("/month 2025-10").await;
    assert!(october.starts_with("October 2025: nothing spent yet."), "{october}");
    assert!(chat.say1("/budget").await.starts_with("No budgets yet"));
    let set = chat.say1("/budget 1000 food").await;
    assert!(set.starts_with("Budget set: ₹1,000.00 a month for 🍽️ Food & dining"), "{set}");
    let again = chat.say1("set budget 500 for food").await;
    assert!(again.starts_with("Budget set: ₹500.00 a month"), "{again}");
    let weekly = chat.say1("/budget 5000 week").await;
    assert!(weekly.starts_with("Budget set: ₹5,000.00 a week for all spending"), "{weekly}");
    let shown = chat.say1("/budget").await;
    assert_eq!(shown.lines().count(), 3, "two budgets, the food one changed not doubled: {shown}");
    assert!(shown.contains("of ₹500.00"), "{shown}");
}

/// The next instant at `hour`:00 in `tz` after `t`.
fn next_local(t: Timestamp, tz: &str, hour: i8) -> Timestamp {
    let z = t.to_zoned_datetime(jiff::tz::TimeZone::get(tz).expect("tz"));
    let at = z.with().hour(hour).minute(0).second(0).subsec_nanosecond(0).build().expect("time");
    let at = if at <= z { at.checked_add(jiff::Span::new().days(1)).expect("tomorrow") } else { at };
    at.timestamp()
}

#[tokio::test]
async fn alert_pushes_follow_the_chats_settings_and_quiet_hours() {
    use spendstream_bot::Push;
    use spendstream_core::insight::Severity;
    let app = TestApp::spawn_with(|c| c.bot.alerts.max_age_hours = 72).await;
    let engine = engine(&app);
    let chat = Chat::new(&engine, Channel::Telegram, "1018");
    let other = Chat::new(&engine, Channel::Telegram, "1019");
    chat.sign_up().await;
    other.sign_up().await;
    chat.say1("/budget 1000 food").await;
    chat.say1("lunch 900").await;
    let user = app.ports.chats.chat(&chat.key).await.expect("chat").and_then(|r| r.user_id).expect("linked");
    let profile = app.ports.store.profile(user).await.expect("profile");
    let alert = profile.alerts.first().expect("a budget alert").clone();
    let tz = "Asia/Kolkata";
    let (noon, night) = (next_local(alert.raised_at, tz, 12), next_local(alert.raised_at, tz, 23));
    let plan = |key: ChatKey, alert: spendstream_core::insight::Alert, at: Timestamp| {
        let engine = engine.clone();
        async move { engine.plan_push(&key, &alert, at).await.expect("planned") }
    };

    // Daytime: sent, with a Seen button, inside the 24-hour window.
    let Push::Send { replies, window_open } = plan(chat.key.clone(), alert.clone(), noon).await else {
        panic!("not sent at noon")
    };
    assert!(replies[0].text.contains(&alert.message) && window_open, "{replies:#?}");
    assert_eq!(replies[0].buttons[0].data, format!("a:{}", alert.id));
    // The default quiet hours (22:00-07:00 local) hold it until 07:00; a critical one is not held.
    assert_eq!(plan(chat.key.clone(), alert.clone(), night).await, Push::Hold(next_local(night, tz, 7)));
    let critical = spendstream_core::insight::Alert { severity: Severity::Critical, ..alert.clone() };
    assert!(matches!(plan(chat.key.clone(), critical, night).await, Push::Send { .. }));
    let settings = chat.say("/alerts").await;
    assert!(settings[0].text.contains("Pushed here: on · quiet hours: 22:00-07:00"), "{settings:#?}");

    // The chat's own settings.
    assert!(chat.say1("/alerts quiet off").await.starts_with("No quiet hours"));
    assert!(matches!(plan(chat.key.clone(), alert.clone(), night).await, Push::Send { .. }));
    assert!(chat.say1("/alerts quiet 21:30-23:30").await.starts_with("Quiet hours: 21:30-23:30 (Asia/Kolkata)"));
    assert!(matches!(plan(chat.key.clone(), alert.clone(), night).await, Push::Hold(_)));
    assert!(chat.say1("/alerts quiet whenever").await.starts_with("Give quiet hours as a window"));
    assert!(chat.say1("/alerts mute budget threshold").await.starts_with("No more budget_threshold alerts"));
    assert!(matches!(plan(chat.key.clone(), alert.clone(), noon).await, Push::Skip(_)));
    assert!(chat.say1("/alerts mute lottery").await.contains("The rules: budget_threshold, "));
    assert!(chat.say1("/alerts unmute budget_threshold").await.starts_with("budget_threshold alerts come here again"));
    assert!(chat.say1("/alerts off").await.starts_with("No more alert pushes here"));
    assert!(matches!(plan(chat.key.clone(), alert.clone(), noon).await, Push::Skip(_)));
    assert!(chat.say("/alerts").await[0].text.contains("Pushed here: off"));
    assert!(chat.say1("/alerts on").await.starts_with("Alerts will be pushed"));
    assert!(matches!(plan(chat.key.clone(), alert.clone(), noon).await, Push::Send { .. }));

    // More than 24 hours after the chat last wrote: the window is closed.
    let late = next_local(alert.raised_at + jiff::SignedDuration::from_hours(25), tz, 12);
    let Push::Send { window_open, .. } = plan(chat.key.clone(), alert.clone(), late).await else { panic!("not sent") };
    assert!(!window_open);
    // Too old, another user's chat, pushed already, seen already: skipped.
    let old = alert.raised_at + jiff::SignedDuration::from_hours(73);
    assert!(matches!(plan(chat.key.clone(), alert.clone(), old).await, Push::Skip(_)));
    assert!(matches!(plan(other.key.clone(), alert.clone(), noon).await, Push::Skip(_)), "not their alert");
    assert_eq!(chat.press(&format!("a:{}", alert.id)).await[0].text, "Marked as seen.");
    assert_eq!(plan(chat.key.clone(), alert.clone(), noon).await, Push::Skip("seen already"));
    engine.pushed(&chat.key, alert.id, noon).await.expect("recorded");
    assert_eq!(plan(chat.key.clone(), alert.clone(), noon).await, Push::Skip("pushed already"));
}

#[tokio::test]
async fn week_month_and_year_reports_come_with_a_chart() {
    let app = TestApp::spawn().await;
    let chat = Chat::new(&engine(&app), Channel::Telegram, "1016");
    chat.sign_up().await;
    chat.say("spent 250 on lunch").await;
    chat.say("uber 180").await;
    for (command, kind) in [("/week", "week"), ("/month", "month"), ("/year", "year"), ("/week last", "week")] {
        let r = chat.say(command).await;
        assert_eq!(r.len(), 1, "{r:#?}");
        let text = &r[0].text;
        let Some(chart) = &r[0].attachment else {
            assert!(command == "/week last" && text.contains("nothing spent"), "{command}: no chart: {r:#?}");
            continue;
        };
        assert!(text.contains("spent ₹430.00"), "the report is the caption: {text}");
        assert_eq!(chart.mime, "image/png");
        assert!(chart.name.starts_with(&format!("report-{kind}-")) && chart.name.ends_with(".png"), "{}", chart.name);
        let (w, h) = common::png_size(&chart.bytes).expect("a PNG");
        // Two category bars and the trend.
        assert_eq!((w, h), (spendstream_bot::chart::WIDTH, 182 + 2 * 50 + 24 + spendstream_bot::chart::TREND_HEIGHT));
    }
    // One day, one category, or nothing spent: text alone.
    for command in ["/today", "how much did I spend on food this month?", "/month 2025-10"] {
        let r = chat.say(command).await;
        assert!(r.len() == 1 && r[0].attachment.is_none(), "{command}: {r:#?}");
    }

    // Charts can be turned off.
    let plain = TestApp::spawn_with(|c| c.bot.charts = false).await;
    let chat = Chat::new(&engine(&plain), Channel::Telegram, "1017");
    chat.sign_up().await;
    chat.say("uber 180").await;
    let r = chat.say("/month").await;
    assert!(r.len() == 1 && r[0].attachment.is_none() && r[0].text.contains("spent ₹180.00"), "{r:#?}");
}

#[tokio::test]
async fn list_pages_and_delete_by_number() {
    let app = TestApp::spawn_with(|c| c.bot.list_page = 3).await;
    let chat = Chat::new(&engine(&app), Channel::Telegram, "1007");
    chat.sign_up().await;
    for amount in [10, 20, 30, 40, 50] {
        chat.say(&format!("coffee {amount}")).await;
    }
    let first = chat.say("/list").await;
    assert_eq!(first[0].text.lines().count(), 4, "{first:#?}");
    assert!(first[0].text.contains("1. today · ₹50.00"), "newest first: {first:#?}");
    assert_eq!(first[0].buttons[0].data, "more");
    let more = chat.press("more").await;
    assert!(more[0].text.starts_with("Earlier entries:") && more[0].text.contains("₹10.00"), "{more:#?}");
    assert!(more[0].buttons.is_empty(), "the last page: {more:#?}");
    let removed = chat.say1("/delete 2").await;
    assert!(removed.starts_with("Removed ₹10.00"), "numbers of the page shown last: {removed}");
    assert!(chat.say1("/delete 9").await.contains("no entry 9"));
    assert!(chat.say1("/delete x").await.starts_with("Send /delete N"));
}

#[tokio::test]
async fn hostile_messages_are_refused_without_harm() {
    let app = TestApp::spawn().await;
    let engine = engine(&app);
    let alice = Chat::new(&engine, Channel::Telegram, "3001");
    let mallory = Chat::new(&engine, Channel::Telegram, "3002");
    alice.sign_up().await;
    mallory.sign_up().await;
    let alices = entry_id(&alice.say("uber 180").await[0]);

    // Another user's entry ids in button data: nothing happens to them.
    assert_eq!(mallory.press(&format!("u:{alices}")).await[0].text, "That entry is already gone.");
    assert_eq!(mallory.press(&format!("c:{alices}")).await[0].text, "That entry is already gone.");
    mallory.press(&format!("s:{alices}:gifts_donations")).await;
    assert!(alice.say1("/list").await.contains("Transport"), "alice's entry is untouched");

    // Huge, control-character and garbage input: a reply, no entry, no crash.
    let huge = "9".repeat(100_000);
    for text in [huge.as_str(), "\u{0}\u{1b}spent\u{7f}", "💸💸💸", "", "   ", "/", "/delete 99999999999999999999"]
    {
        let r = mallory.say(text).await;
        assert!(!r.is_empty(), "{:?}", text.chars().take(20).collect::<String>());
    }
    mallory.press("s:not-a-uuid:food_dining").await;
    mallory.press(&"x".repeat(5000)).await;
    assert_eq!(mallory.say1("/list").await, "No entries yet. Tell me one: \"coffee 4.50\".");

    // Bad message ids are refused before anything is read.
    let bad = Incoming {
        chat: mallory.key.clone(),
        message_id: "x".repeat(1000),
        input: Input::Text("uber 50".into()),
        at: Timestamp::now(),
    };
    assert!(matches!(engine.handle(&bad).await, Err(EngineError::BadMessage(_))));

    // A flood of one chat's messages at once: each handled once, none lost.
    let flood: Vec<Incoming> = (0..40).map(|i| mallory.message(Input::Text(format!("coffee {}", i + 1)))).collect();
    let results = futures_join(&engine, &flood).await;
    assert!(results.iter().all(|r| r.len() == 1), "{results:#?}");
    assert_eq!(stored_entries(&app, &mallory).await, 40);
}

async fn futures_join(engine: &Arc<Engine>, msgs: &[Incoming]) -> Vec<Vec<Reply>> {
    let tasks: Vec<_> = msgs
        .iter()
        .cloned()
        .map(|m| {
            let e = engine.clone();
            tokio::spawn(async move { e.handle(&m).await.expect("handled") })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("task"));
    }
    out
}

/// How many live entries the store holds for the chat's account.
async fn stored_entries(app: &TestApp, chat: &Chat) -> usize {
    let user = app.ports.chats.chat(&chat.key).await.expect("chat").and_then(|r| r.user_id).expect("signed up");
    let query = spendstream_core::ports::ListQuery { limit: 1000, ..Default::default() };
    app.ports.store.list(user, &query).await.expect("list").entries.len()
}

#[tokio::test]
async fn dialogues_survive_a_restart() {
    let app = TestApp::spawn().await;
    let config = (*app.state.config).clone();
    {
        let chat = Chat::new(&engine(&app), Channel::Telegram, "4001");
        chat.say("/start").await;
        chat.press("cur:INR").await;
    }
    let dir = app.stop().await;

    let app = TestApp::start(config, dir).await;
    let chat = Chat { next: AtomicU64::new(100), ..Chat::new(&engine(&app), Channel::Telegram, "4001") };
    let r = chat.say("UTC").await;
    assert!(r[0].text.starts_with("All set"), "the time-zone question is still open: {r:#?}");
    chat.say("uber 180").await;
    assert!(chat.say1("/list").await.contains("₹180.00"));
}

/// Forty-odd phrasings through the whole engine: each reply says what was done, with
/// the amount in its currency's writing.
#[tokio::test]
async fn free_text_phrasings_end_to_end() {
    let app = TestApp::spawn().await;
    let chat = Chat::new(&engine(&app), Channel::Telegram, "1008");
    chat.sign_up().await;
    let cases = [
        ("spent 250 on lunch at subway", "Added ₹250.00 · 🍽️ Food & dining"),
        ("uber 180", "Added ₹180.00 · 🚕 Transport"),
        ("₹99 netflix yesterday", "Added ₹99.00 · 🔁 Subscriptions · yesterday"),
        ("coffee 4.50", "Added ₹4.50"),
        ("2.5k groceries", "Added ₹2,500.00 · 🛒 Groceries"),
        ("got salary 85000", "Added income ₹85,000.00"),
        ("Rs. 1,250 for electricity", "Added ₹1,250.00 · 💡 Utilities"),
        ("$12.99 spotify", "Added $12.99"),
        ("paid 3,500 rent last friday", "Added ₹3,500.00 · 🏠 Rent"),
        ("dinner 640 on 12 oct", "Added ₹640.00"),
        ("rent 1,25,000", "Added ₹1,25,000.00"),
        ("shoes 125,000", "Added ₹1,25,000.00"),
        ("INR 500 petrol", "Added ₹500.00 · ⛽ Fuel"),
        ("USD 40 dinner", "Added $40.00"),
        ("€15 taxi", "Added €15.00"),
        ("EUR 8.4 breakfast", "Added €8.40"),
        ("12 usd parking", "Added $12.00"),
        ("school fees 1.5 lakh", "Added ₹1,50,000.00"),
        ("1,250.50 shopping", "Added ₹1,250.50"),
        ("chai 20/-", "Added ₹20.00"),
        ("starbucks 5 bucks", "Added $5.00"),
        ("uber eats 320", "Added ₹320.00"),
        ("groceries 850 yesterday", "Added ₹850.00 · 🛒 Groceries · yesterday"),
        ("zomato 450 3 days ago", "Added ₹450.00"),
        ("day before yesterday auto 60", "Added ₹60.00"),
        ("Paid 700 at D-Mart yesterday", "Added ₹700.00"),
        ("paid 500 to rahul", "Added ₹500.00"),
        ("lunch at office 180", "Added ₹180.00"),
        ("received 5000 from rahul", "Added income ₹5,000.00"),
        ("refund 1200 from amazon", "Added income ₹1,200.00"),
        ("bonus 20k", "Added income ₹20,000.00"),
        ("salary credited 85,000", "Added income ₹85,000.00"),
        ("spent 1,200 on groceries at bigbasket", "Added ₹1,200.00 · 🛒 Groceries"),
        ("petrol 1500 at indian oil", "Added ₹1,500.00 · ⛽ Fuel"),
        ("450rs dinner", "Added ₹450.00"),
        ("/add 99 netflix", "Added ₹99.00"),
        ("how much did I spend on food this month?", "on 🍽️ Food & dining"),
        ("show my expenses", "Your latest entries:"),
        ("report for last week", "Last week: "),
        ("how much on swiggy this week", "on 🍽️ Food & dining"),
        ("set budget 20000 for food", "Budget set: ₹20,000.00 a month for 🍽️ Food & dining"),
        ("budget 15k groceries", "Budget set: ₹15,000.00 a month for 🛒 Groceries"),
        ("undo", "Removed ₹99.00"),
        ("delete last", "Removed ₹450.00"),
        ("help", "I keep track of what you spend."),
        ("hello", "Sorry, I didn't get that."),
        ("2 coffees 180", "Which is the amount: 2 or 180?"),
    ];
    for (text, expected) in cases {
        let reply = chat.say1(text).await;
        if expected.starts_with("on ") {
            assert!(reply.contains(expected), "{text}: {reply}");
        } else {
            assert!(reply.starts_with(expected), "{text}: expected {expected:?}, got {reply}");
        }
    }
    let adds = cases.iter().filter(|(_, e)| e.starts_with("Added")).count();
    assert_eq!(stored_entries(&app, &chat).await, adds - 2, "every entry kept but the two undone");
}

#[tokio::test]
async fn alerts_are_listed_and_marked_seen_by_their_owner_only() {
    let app = TestApp::spawn().await;
    let engine = engine(&app);
    let chat = Chat::new(&engine, Channel::Telegram, "1009");
    let other = Chat::new(&engine, Channel::Telegram, "1010");
    chat.sign_up().await;
    other.sign_up().await;
    assert!(chat.say1("/alerts").await.starts_with("No new alerts"));
    chat.say1("/budget 1000 food").await;
    chat.say1("lunch 900").await;
    let shown = chat.say("/alerts").await;
    assert!(shown.len() >= 2, "a header and at least the budget alert: {shown:#?}");
    assert!(shown[0].text.starts_with("Your newest alerts"), "{shown:#?}");
    let alert = &shown[1];
    assert!(alert.text.contains("Food & dining"), "{alert:#?}");
    let seen = alert.buttons[0].data.clone();
    assert!(seen.starts_with("a:"), "{seen}");
    assert_eq!(other.press(&seen).await[0].text, "I don't know that alert.", "not theirs");
    assert_eq!(chat.press(&seen).await[0].text, "Marked as seen.");
    let after = chat.say("/alerts").await;
    assert!(after.iter().skip(1).all(|r| r.buttons[0].data != seen), "a seen alert is not shown again: {after:#?}");
}

#[tokio::test]
async fn tips_come_from_the_users_own_spending() {
    let app = TestApp::spawn().await;
    let chat = Chat::new(&engine(&app), Channel::Telegram, "1011");
    chat.sign_up().await;
    assert!(chat.say1("/tips").await.starts_with("No tips for "));
    chat.say("spent 2000 on lunch").await;
    chat.say("uber 500").await;
    let tips = chat.say1("/tips").await;
    assert!(tips.starts_with("Tips for "), "{tips}");
    assert!(tips.contains("💡 Food & dining was 80.0% of your spending this month"), "{tips}");
    assert!(chat.say1("tips").await.starts_with("Tips for "), "asked in words");
    assert!(chat.say1("/tips week").await.starts_with("Tips for This week:"));
}

#[tokio::test]
async fn export_sends_the_periods_entries_as_csv_that_import_reads() {
    let app = TestApp::spawn().await;
    let chat = Chat::new(&engine(&app), Channel::Telegram, "1012");
    chat.sign_up().await;
    assert!(chat.say1("/export").await.starts_with("No entries in "));
    chat.say("spent 250 on lunch at subway").await;
    chat.say("got salary 85000").await;
    let r = chat.say("/export").await;
    assert_eq!(r.len(), 1, "{r:#?}");
    assert!(r[0].text.starts_with("CSV of ") && r[0].text.contains("entries: 2."), "{}", r[0].text);
    let file = r[0].attachment.as_ref().expect("a CSV file");
    assert!(file.name.starts_with("spendstream-") && file.name.ends_with(".csv"), "{}", file.name);
    assert_eq!(file.mime, "text/csv");
    let mut rows = csv::Reader::from_reader(file.bytes.as_slice());
    let header: Vec<String> = rows.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(header, ["occurred_at", "amount", "currency", "merchant", "note", "category", "kind", "id"]);
    let rows: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (&rows[0][1], &rows[0][2], &rows[0][3], &rows[0][5], &rows[0][6]),
        ("250.00", "INR", "Subway", "food_dining", "expense")
    );
    assert_eq!((&rows[1][1], &rows[1][6]), ("85000.00", "income"));
    assert!(rows[0][0].ends_with("+05:30"), "local time with its offset: {}", &rows[0][0]);
}
