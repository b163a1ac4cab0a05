//! Conformance stories every implementation of a port must pass. The embedded
//! engines run them in `testkit/tests/conformance.rs`; scale-out engines run
//! the same functions against the real services.

use jiff::Timestamp;
use jiff::civil::date;
use spendstream_core::chats::{Channel, ChatKey, ChatStore, ChatsError};
use spendstream_core::inbox::{Bill, BillStatus, Inbox, InboxItem, Payment, SmsStatus};
use spendstream_core::insight::{Alert, AlertRule, Budget, BudgetPeriod, LearnedRule, Severity};
use spendstream_core::period::WeekStart;
use spendstream_core::ports::{
    Accounts, AccountsError, AnalyticsStore, ApiToken, EventLog, ListQuery, Position, Processed, RateDecision,
    RefreshToken, Rotation, SharedState, User,
};
use spendstream_core::{
    CategoryId, CategorySource, Currency, Entry, EntryId, EntryKind, Event, Money, ProcessedEntry, Source, UserId,
    UserSettings,
};
use std::sync::Arc;
use std::time::Duration;

fn settings(tz: &str) -> UserSettings {
    UserSettings {
        time_zone: tz.into(),
        week_start: WeekStart::default(),
        currency: Currency::parse("INR").expect("INR"),
    }
}

/// An entry of `user` for `minor` paise at `at`.
pub fn entry(user: UserId, minor: i64, at: &str) -> Entry {
    Entry {
        id: EntryId::random(),
        user_id: user,
        kind: EntryKind::Expense,
        amount: Money { minor, currency: Currency::parse("INR").expect("INR") },
        occurred_at: at.parse().expect("instant"),
        merchant: Some("Swiggy".into()),
        note: None,
        user_category: None,
        source: Source::Manual,
        created_at: Timestamp::from_microsecond(Timestamp::now().as_microsecond()).expect("now"),
        origin: None,
    }
}

/// `e` as added by the processors: category `food_dining`, by rule.
pub fn processed(e: &Entry) -> Processed {
    Processed::Added(ProcessedEntry {
        entry: e.clone(),
        category: CategoryId("food_dining".into()),
        category_source: CategorySource::Rule,
        category_reason: "test".into(),
    })
}

fn user() -> UserId {
    UserId(uuid::Uuid::now_v7())
}

/// A due HDFC card bill of 18,450.00 (minimum 920.00) read from SMS `sms_id`.
fn card_bill(user: UserId, due: jiff::civil::Date, sms_id: uuid::Uuid, received_at: Timestamp) -> Bill {
    Bill {
        id: uuid::Uuid::now_v7(),
        user_id: user,
        sender: "VM-HDFCBK".into(),
        account_last4: Some("7712".into()),
        currency: "INR".into(),
        amount_due_minor: 1_845_000,
        min_due_minor: Some(92_000),
        due_date: Some(due),
        status: BillStatus::Due,
        paid_by: None,
        paid_at: None,
        sms_id,
        received_at,
    }
}

fn alert(user: UserId, subject: &str, at: &str) -> Alert {
    let at: Timestamp = at.parse().expect("instant");
    Alert {
        id: Alert::id_for(user, AlertRule::LargeDebit, subject, ""),
        user_id: user,
        rule: AlertRule::LargeDebit,
        subject: subject.into(),
        window: String::new(),
        severity: Severity::Warning,
        message: format!("large payment {subject}"),
        numbers: [("amount".to_owned(), "30000.00".to_owned())].into(),
        entry_id: None,
        occurred_at: at,
        raised_at: at,
        acknowledged_at: None,
    }
}

/// Analytics store, the processors' side: corrections (with `apply_to_past`),
/// budgets and alerts (one per id, acknowledgements kept). Returns the user.
pub async fn profile_story(store: Arc<dyn AnalyticsStore>) -> UserId {
    let u = user();
    let pos = |o: u64| [Position { partition: 0, offset: o }];
    let mut a = entry(u, 100, "2026-10-01T10:00:00Z");
    a.merchant = Some("Chai Point".into());
    let mut b = entry(u, 200, "2026-10-02T10:00:00Z");
    b.merchant = Some("CHAI POINT 0042".into());
    let mut mine = entry(u, 300, "2026-10-03T10:00:00Z");
    mine.merchant = Some("Chai Point".into());
    let other = entry(u, 400, "2026-10-03T11:00:00Z");
    let mut user_set = processed(&mine);
    if let Processed::Added(p) = &mut user_set {
        p.category = CategoryId("gifts_donations".into());
        p.category_source = CategorySource::User;
    }
    store.apply(vec![processed(&a), processed(&b), user_set, processed(&other)], &pos(1)).await.expect("apply");
    let v0 = store.version(u).await.expect("version");
    let rule = LearnedRule {
        merchant_key: "chai point".into(),
        category: CategoryId("groceries".into()),
        from_entry: a.id,
        learned_at: "2026-10-05T00:00:00Z".parse().expect("instant"),
    };
    let fix = Processed::Recategorised {
        user_id: u,
        entry_id: a.id,
        category: CategoryId("groceries".into()),
        learned: Some(("learned from a correction".into(), rule.clone())),
        apply_to_past: true,
    };
    store.apply(vec![fix], &pos(2)).await.expect("apply");
    assert!(store.version(u).await.expect("version") > v0, "a correction changes what reads see");
    let got = |id| {
        let store = store.clone();
        async move { store.entry(u, id).await.expect("entry").expect("live") }
    };
    let fixed = got(a.id).await;
    assert_eq!((fixed.category.as_str(), fixed.category_source), ("groceries", CategorySource::User));
    let moved = got(b.id).await;
    assert_eq!((moved.category.as_str(), moved.category_source), ("groceries", CategorySource::Learned));
    assert_eq!(moved.category_reason, "learned from a correction");
    assert_eq!(got(mine.id).await.category.as_str(), "gifts_donations", "a category the user set never moves");
    assert_eq!(got(other.id).await.category.as_str(), "food_dining", "another merchant is untouched");
    let month = store.summarize(u, date(2026, 10, 1), date(2026, 11, 1), "UTC", 5, false).await.expect("summary");
    let groceries: i64 =
        month.cells.iter().filter(|c| c.category.as_str() == "groceries").map(|c| c.amount_minor).sum();
    assert_eq!(groceries, 300, "the daily cells follow the move");

    let budget = Budget {
        id: uuid::Uuid::now_v7(),
        user_id: u,
        category: Some(CategoryId("groceries".into())),
        period: BudgetPeriod::Month,
        start_day: 25,
        limit: Money { minor: 500_000, currency: Currency::parse("INR").expect("INR") },
        updated_at: "2026-10-05T00:00:00Z".parse().expect("instant"),
    };
    let gone = Budget { id: uuid::Uuid::now_v7(), category: None, ..budget.clone() };
    let first = alert(u, "e1", "2026-10-05T00:00:00Z");
    let second = alert(u, "e2", "2026-10-06T00:00:00Z");
    let mut again = first.clone();
    again.message = "a redelivered copy".into();
    store
        .apply(
            vec![
                Processed::BudgetSet(budget.clone()),
                Processed::BudgetSet(gone.clone()),
                Processed::BudgetRemoved { user_id: u, budget_id: gone.id },
                Processed::Alert(first.clone()),
                Processed::Alert(second.clone()),
                Processed::Alert(again),
                Processed::AlertAcked {
                    user_id: u,
                    alert_id: first.id,
                    at: "2026-10-07T00:00:00Z".parse().expect("t"),
                },
            ],
            &pos(3),
        )
        .await
        .expect("apply");
    let p = store.profile(u).await.expect("profile");
    assert_eq!(p.budgets, vec![budget]);
    assert_eq!(p.learned, vec![rule]);
    assert_eq!(p.alerts.len(), 2, "one alert per id: {:?}", p.alerts);
    assert_eq!(p.alerts[0].id, second.id, "newest first");
    assert_eq!(p.alerts[1].message, first.message, "the first copy stays");
    assert!(p.alerts[1].acknowledged_at.is_some());
    assert_eq!(store.profile(user()).await.expect("profile"), Default::default(), "an unknown user has nothing");

    // Due bills are kept for due-soon alerts until paid.
    let due = card_bill(u, date(2026, 11, 5), uuid::Uuid::now_v7(), "2026-10-20T00:00:00Z".parse().expect("instant"));
    let paid = Bill { id: uuid::Uuid::now_v7(), ..due.clone() };
    let paid_later = Bill { id: uuid::Uuid::now_v7(), ..due.clone() };
    store
        .apply(
            vec![
                Processed::Bill(due.clone()),
                Processed::Bill(paid.clone()),
                Processed::Bill(paid_later.clone()),
                Processed::BillsSettled { user_id: u, bill_ids: vec![paid.id] },
                Processed::Bill(Bill { status: BillStatus::Paid, ..paid_later }),
            ],
            &pos(4),
        )
        .await
        .expect("apply");
    assert_eq!(store.profile(u).await.expect("profile").bills, vec![due]);
    u
}

/// Shared state (rate limits, idempotency keys, cached answers): fixed windows
/// that expire, reset, first value wins until its time to live ends. Keys are unique per
/// run, so the story can run against a shared server.
pub async fn shared_story(shared: Arc<dyn SharedState>) {
    shared.healthcheck().await.expect("healthy");
    let run = uuid::Uuid::now_v7();
    let k = format!("login:{run}");
    let window = Duration::from_millis(400);
    for _ in 0..3 {
        assert_eq!(shared.check(&k, 3, window).await.expect("check"), RateDecision::Allowed);
        shared.hit(&k, window).await.expect("hit");
    }
    match shared.check(&k, 3, window).await.expect("check") {
        RateDecision::Limited { retry_after_secs } => assert!(retry_after_secs >= 1, "{retry_after_secs}"),
        RateDecision::Allowed => panic!("three hits in the window reach a limit of 3"),
    }
    assert_eq!(shared.check(&k, 4, window).await.expect("check"), RateDecision::Allowed, "under a higher limit");
    shared.reset(&k).await.expect("reset");
    assert_eq!(shared.check(&k, 3, window).await.expect("check"), RateDecision::Allowed, "reset forgets");
    // The window expires by itself.
    for _ in 0..3 {
        shared.hit(&k, window).await.expect("hit");
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while shared.check(&k, 3, window).await.expect("check") != RateDecision::Allowed {
        assert!(std::time::Instant::now() < deadline, "the window never expired");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let key = format!("idem:{run}");
    let ttl = Duration::from_secs(60);
    assert_eq!(shared.put_if_absent(&key, "first", ttl).await.expect("put"), "first");
    assert_eq!(shared.put_if_absent(&key, "second", ttl).await.expect("put"), "first", "the first value wins");
    let other = format!("idem:{run}:other");
    assert_eq!(shared.put_if_absent(&other, "x", ttl).await.expect("put"), "x", "keys are independent");
    let short = format!("idem:{run}:short");
    assert_eq!(shared.put_if_absent(&short, "a", Duration::from_millis(200)).await.expect("put"), "a");
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while shared.put_if_absent(&short, "b", Duration::from_millis(200)).await.expect("put") != "b" {
        assert!(std::time::Instant::now() < deadline, "the key never expired");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Cached answers: bytes back as put, replaced by a later put, gone after their ttl.
    let report = format!("report:{run}:v1");
    assert_eq!(shared.cache_get(&report).await.expect("get"), None);
    shared.cache_put(&report, b"{\"total\":1}", ttl).await.expect("put");
    assert_eq!(shared.cache_get(&report).await.expect("get").as_deref(), Some(&b"{\"total\":1}"[..]));
    shared.cache_put(&report, &[0, 159, 146, 150], ttl).await.expect("put");
    assert_eq!(shared.cache_get(&report).await.expect("get"), Some(vec![0, 159, 146, 150]), "any bytes");
    let brief = format!("report:{run}:brief");
    shared.cache_put(&brief, b"x", Duration::from_millis(200)).await.expect("put");
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while shared.cache_get(&brief).await.expect("get").is_some() {
        assert!(std::time::Instant::now() < deadline, "the cached answer never expired");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Event log: durable appends, per-user order, groups, commit, seek, wake-up.
pub async fn event_log_story<F, Fut>(log: Arc<dyn EventLog>, reopen: F)
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Arc<dyn EventLog>>,
{
    log.healthcheck().await.expect("healthy");
    let (a, b) = (user(), user());
    let events: Vec<Event> =
        [a, a, b, a, b].iter().map(|u| Event::EntryAdded { entry: entry(*u, 100, "2026-10-01T10:00:00Z") }).collect();
    let positions = log.append(events.clone()).await.expect("append");
    assert_eq!(positions.len(), 5);
    let group = format!("g-{}", uuid::Uuid::new_v4());
    let mut c = log.consumer(&group).await.expect("consumer");
    let mut got = Vec::new();
    while got.len() < 5 {
        // Generous: joining a consumer group on a broker takes seconds.
        let batch = c.poll(10, Duration::from_secs(30)).await.expect("poll");
        assert!(!batch.is_empty(), "appended events must be readable");
        got.extend(batch);
    }
    let ours: Vec<&Event> = got.iter().map(|r| &r.event).filter(|e| events.contains(e)).collect();
    for u in [a, b] {
        let want: Vec<&Event> = events.iter().filter(|e| e.user_id() == u).collect();
        let seen: Vec<&Event> = ours.iter().copied().filter(|e| e.user_id() == u).collect();
        assert_eq!(want, seen, "events of one user keep their order");
    }
    // Commit part of one partition; a new member resumes right after it there.
    // (Records of partitions without a commit start from the beginning.)
    let committed = got[2].position;
    c.commit(&[committed]).await.expect("commit");
    drop(c);
    let next_after = |p: Position| {
        got.iter()
            .filter(|r| r.position.partition == p.partition && r.position.offset > p.offset)
            .min_by_key(|r| r.position.offset)
    };
    let mut again = log.consumer(&group).await.expect("consumer");
    if let Some(want) = next_after(committed) {
        let first = next_in(again.as_mut(), committed.partition).await;
        assert_eq!(first.map(|r| r.position), Some(want.position), "resumes after the committed position");
    }
    let start = got.iter().filter(|r| r.position.partition == committed.partition).min_by_key(|r| r.position.offset);
    let start = start.expect("a record in the committed partition");
    again.seek(start.position).await.expect("seek");
    let replay = next_in(again.as_mut(), committed.partition).await;
    assert_eq!(replay.map(|r| r.event), Some(start.event.clone()), "seek replays");
    drop(again);
    // A poll waits for, and wakes on, a new append (to user a's partition).
    let a_part = got.iter().find(|r| r.event.user_id() == a).expect("a's records").position.partition;
    let a_last = got.iter().filter(|r| r.position.partition == a_part).map(|r| r.position).max().expect("records");
    let mut tail = log.consumer(&group).await.expect("consumer");
    tail.seek(Position { partition: a_last.partition, offset: a_last.offset + 1 }).await.expect("seek");
    let empty = tail.poll(10, Duration::from_millis(50)).await.expect("poll");
    assert!(empty.iter().all(|r| r.position.partition != a_last.partition), "nothing new yet");
    let waiter = tokio::spawn(async move { next_in(tail.as_mut(), a_last.partition).await });
    let late = Event::EntryAdded { entry: entry(a, 7, "2026-10-02T10:00:00Z") };
    log.append(vec![late.clone()]).await.expect("append");
    let woke = waiter.await.expect("join");
    assert_eq!(woke.map(|r| r.event), Some(late));
    // Concurrent appends all get distinct positions.
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let log = log.clone();
            tokio::spawn(async move {
                log.append(vec![Event::EntryAdded { entry: entry(a, i, "2026-10-03T10:00:00Z") }]).await
            })
        })
        .collect();
    let mut all = std::collections::BTreeSet::new();
    for t in tasks {
        for p in t.await.expect("join").expect("append") {
            assert!(all.insert(p), "position handed out twice");
        }
    }
    // A record of many entries (an import) weighs as many events: a poll stops
    // once it holds `max` events' worth (the last record may go past it).
    let chunks: Vec<Event> = (0..3)
        .map(|i| Event::EntriesAdded {
            user_id: b,
            entries: (0..4).map(|j| entry(b, 10 * i + j + 1, "2026-10-04T10:00:00Z")).collect(),
        })
        .collect();
    let at = log.append(chunks.clone()).await.expect("append");
    assert_eq!(at.len(), 3, "one position per record");
    let mut imports = log.consumer(&group).await.expect("consumer");
    imports.seek(at[0]).await.expect("seek");
    let mut read = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while read.len() < chunks.len() && tokio::time::Instant::now() < deadline {
        let batch = imports.poll(5, Duration::from_millis(500)).await.expect("poll");
        if let Some((_, head)) = batch.split_last() {
            let before_last: usize = head.iter().map(|r| r.event.weight()).sum();
            assert!(before_last < 5, "a poll of 5 went on past {before_last} events");
        }
        read.extend(batch.into_iter().filter(|r| r.position.partition == at[0].partition && r.position >= at[0]));
    }
    let read: Vec<Event> = read.into_iter().map(|r| r.event).collect();
    assert_eq!(read, chunks, "records of many entries come back whole and in order");
    drop(imports);
    // Acknowledged events survive reopening.
    drop(log);
    let log = reopen().await;
    let mut fresh = log.consumer(&format!("g-{}", uuid::Uuid::new_v4())).await.expect("consumer");
    let mut count = 0;
    // Joining a group takes a moment on a broker: read until everything came,
    // or until the log has been quiet for a while after it started answering.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while count < 59 && tokio::time::Instant::now() < deadline {
        count += fresh.poll(1000, Duration::from_millis(500)).await.expect("poll").len();
    }
    assert!(count >= 59, "every acknowledged record is still there ({count})");
}

/// The next record of `partition` that `c` returns (other partitions' records
/// are passed over), waiting up to 30 s.
async fn next_in(
    c: &mut dyn spendstream_core::ports::LogConsumer,
    partition: u32,
) -> Option<spendstream_core::ports::Record> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while tokio::time::Instant::now() < deadline {
        let batch = c.poll(100, Duration::from_millis(500)).await.expect("poll");
        if let Some(r) = batch.into_iter().find(|r| r.position.partition == partition) {
            return Some(r);
        }
    }
    None
}

/// Analytics store: idempotent adds, permanent tombstones, isolation, windows, lists.
pub async fn store_story(store: Arc<dyn AnalyticsStore>) {
    let (a, b) = (user(), user());
    let pos = |o| [Position { partition: 0, offset: o }];
    let e1 = entry(a, 10_000, "2026-10-01T20:00:00Z");
    let e2 = entry(a, 5_000, "2026-10-02T05:00:00Z");
    let e3 = entry(b, 777, "2026-10-01T08:00:00Z");
    let setup = vec![
        Processed::Settings { user_id: a, settings: settings("UTC") },
        processed(&e1),
        processed(&e2),
        processed(&e3),
    ];
    let v0 = store.version(a).await.expect("version");
    store.apply(setup, &pos(3)).await.expect("apply");
    assert!(store.wait_applied(pos(3)[0], Duration::from_secs(1)).await);
    let v1 = store.version(a).await.expect("version");
    assert_ne!(v0, v1, "a change moves the version");
    assert!(store.entry(a, e1.id).await.expect("entry").is_some());
    assert!(store.entry(b, e1.id).await.expect("entry").is_none(), "isolation by user");
    let total = |s: &spendstream_core::report::RangeSummary| s.cells.iter().map(|c| c.amount_minor).sum::<i64>();
    let oct = |st: Arc<dyn AnalyticsStore>, zone: &'static str| async move {
        st.summarize(a, date(2026, 10, 1), date(2026, 11, 1), zone, 5, false).await.expect("summarize")
    };
    assert_eq!(total(&oct(store.clone(), "UTC").await), 15_000);
    let monthly = store.summarize(a, date(2026, 10, 1), date(2026, 11, 1), "UTC", 5, true).await.expect("summarize");
    assert_eq!(total(&monthly), 15_000, "monthly cells hold the same totals");
    assert!(monthly.cells.iter().all(|c| c.date.day() == 1), "cells per month are dated the 1st");
    store.apply(vec![processed(&e1)], &pos(4)).await.expect("apply");
    assert_eq!(total(&oct(store.clone(), "UTC").await), 15_000, "a redelivered add counts once");
    let vb = store.version(b).await.expect("version");
    let removed = Processed::Removed { user_id: a, entry_id: e1.id, removed_at: Timestamp::now() };
    store.apply(vec![removed], &pos(5)).await.expect("apply");
    assert_ne!(store.version(a).await.expect("version"), v1, "a removal moves the version");
    assert_eq!(store.version(b).await.expect("version"), vb, "another user's change does not");
    store.apply(vec![processed(&e1)], &pos(6)).await.expect("apply");
    assert_eq!(total(&oct(store.clone(), "UTC").await), 5_000, "a tombstone is permanent");
    assert!(store.known(a, e1.id).await.expect("known"));
    // Tombstone before the add (replay of a partition from another point).
    let e4 = entry(a, 1, "2026-10-03T08:00:00Z");
    store
        .apply(
            vec![Processed::Removed { user_id: a, entry_id: e4.id, removed_at: Timestamp::now() }, processed(&e4)],
            &pos(8),
        )
        .await
        .expect("apply");
    assert!(store.entry(a, e4.id).await.expect("entry").is_none());
    // Windows are cut in the user's zone: 2026-10-02T05:00Z is Oct 2 in UTC, Oct 1 in Los Angeles.
    let s = store.summarize(a, date(2026, 10, 2), date(2026, 10, 3), "UTC", 5, false).await.expect("summarize");
    assert_eq!(total(&s), 5_000);
    store
        .apply(vec![Processed::Settings { user_id: a, settings: settings("America/Los_Angeles") }], &pos(9))
        .await
        .expect("apply");
    let la = store
        .summarize(a, date(2026, 10, 1), date(2026, 10, 2), "America/Los_Angeles", 5, false)
        .await
        .expect("summarize");
    assert_eq!(total(&la), 5_000);
    assert_eq!(la.merchants.first().map(|m| m.amount_minor), Some(5_000));
    // Lists: newest first, paged, per user.
    let more: Vec<Entry> = (0..7).map(|i| entry(b, 100 + i, &format!("2026-09-{:02}T10:00:00Z", i + 1))).collect();
    store.apply(more.iter().map(processed).collect(), &pos(20)).await.expect("apply");
    let p1 = store.list(b, &ListQuery { limit: 5, ..Default::default() }).await.expect("list");
    assert_eq!(p1.entries.len(), 5);
    assert_eq!(p1.entries[0].entry.id, e3.id, "newest first");
    let p2 = store.list(b, &ListQuery { limit: 5, after: p1.next, ..Default::default() }).await.expect("list");
    assert_eq!(p2.entries.len(), 3);
    assert!(p2.next.is_none());
    assert!(!store.wait_applied(Position { partition: 0, offset: 1_000_000 }, Duration::from_millis(20)).await);
    store.healthcheck().await.expect("healthy");
}

/// Accounts: users, unique emails, settings, refresh rotation and reuse.
pub async fn accounts_story(accounts: Arc<dyn Accounts>) {
    let email = format!("{}@example.com", uuid::Uuid::new_v4());
    let u = User {
        id: user(),
        email: email.clone(),
        settings: settings("Asia/Kolkata"),
        created_at: Timestamp::from_second(1_800_000_000).expect("ts"),
    };
    accounts.create_user(&u, "hash").await.expect("create");
    let dup = User { id: user(), ..u.clone() };
    assert!(matches!(accounts.create_user(&dup, "hash").await, Err(AccountsError::DuplicateEmail)));
    let (found, hash) = accounts.user_by_email(&email).await.expect("by email").expect("exists");
    assert_eq!((found, hash.as_str()), (u.clone(), "hash"));
    accounts.update_settings(u.id, &settings("UTC")).await.expect("update");
    assert_eq!(accounts.user(u.id).await.expect("user").expect("exists").settings.time_zone, "UTC");
    assert!(matches!(accounts.update_settings(user(), &settings("UTC")).await, Err(AccountsError::NotFound)));
    let now = Timestamp::now();
    let later = now + jiff::SignedDuration::from_hours(1);
    let tok =
        |h: &str| RefreshToken { hash: h.into(), family: format!("fam-{email}"), user_id: u.id, expires_at: later };
    accounts.insert_refresh(&tok("h1")).await.expect("insert");
    assert_eq!(accounts.rotate_refresh("h1", &tok("h2"), now).await.expect("rotate"), Rotation::Rotated(u.id));
    assert_eq!(accounts.rotate_refresh("h1", &tok("h3"), now).await.expect("rotate"), Rotation::Reused);
    assert_ne!(
        accounts.rotate_refresh("h2", &tok("h4"), now).await.expect("rotate"),
        Rotation::Rotated(u.id),
        "family revoked"
    );
    assert_eq!(accounts.rotate_refresh("nope", &tok("h5"), now).await.expect("rotate"), Rotation::Invalid);
    let expired = RefreshToken { hash: "old".into(), family: format!("fam2-{email}"), user_id: u.id, expires_at: now };
    accounts.insert_refresh(&expired).await.expect("insert");
    assert_eq!(accounts.rotate_refresh("old", &tok("h6"), later).await.expect("rotate"), Rotation::Invalid);
    accounts
        .insert_refresh(&RefreshToken { hash: "h7".into(), family: format!("fam3-{email}"), ..tok("x") })
        .await
        .expect("insert");
    assert!(accounts.revoke_family_of("h7").await.expect("revoke"));
    assert_ne!(accounts.rotate_refresh("h7", &tok("h8"), now).await.expect("rotate"), Rotation::Rotated(u.id));
    // API tokens: stored by hash, listed without it, used, revoked by their owner only.
    let api = |name: &str| ApiToken {
        id: uuid::Uuid::now_v7(),
        user_id: u.id,
        name: name.into(),
        scope: "ingest:sms".into(),
        prefix: "sst_abcdef".into(),
        created_at: Timestamp::from_second(1_800_000_000).expect("ts"),
        last_used_at: None,
    };
    let (t1, t2) = (api("phone"), api("tablet"));
    accounts.create_api_token(&t1, &format!("hash1-{email}")).await.expect("token");
    accounts.create_api_token(&t2, &format!("hash2-{email}")).await.expect("token");
    let listed = accounts.api_tokens(u.id).await.expect("tokens");
    assert_eq!(listed.len(), 2);
    let used = accounts.use_api_token(&format!("hash1-{email}"), now).await.expect("use").expect("live");
    assert_eq!((used.id, used.user_id, used.scope.as_str()), (t1.id, u.id, "ingest:sms"));
    assert!(used.last_used_at.is_some());
    assert!(accounts.use_api_token("no-such-hash", now).await.expect("use").is_none());
    assert!(!accounts.revoke_api_token(user(), t1.id).await.expect("revoke"), "not the owner");
    assert!(accounts.revoke_api_token(u.id, t1.id).await.expect("revoke"));
    assert!(!accounts.revoke_api_token(u.id, t1.id).await.expect("revoke"), "already revoked");
    assert!(accounts.use_api_token(&format!("hash1-{email}"), now).await.expect("use").is_none());
    assert_eq!(accounts.api_tokens(u.id).await.expect("tokens").len(), 1);
    accounts.healthcheck().await.expect("healthy");
}

/// The SMS inbox: one item per SMS, one entry per transaction, bills settled by payments.
pub async fn inbox_story(inbox: Arc<dyn Inbox>) {
    let u = user();
    let t0: Timestamp = "2026-03-01T10:00:00Z".parse().expect("ts");
    let item = |body: &str, at: Timestamp, status: SmsStatus| InboxItem {
        id: uuid::Uuid::now_v7(),
        user_id: u,
        sender: "VM-BANK".into(),
        body: body.into(),
        body_hash: format!("hash:{body}"),
        received_at: at,
        class: "transaction".into(),
        status,
        reason: None,
        entry_id: None,
        bill_id: None,
        updated_at: at,
    };
    let day = Duration::from_secs(86_400);
    let first = item("Rs 5 spent", t0, SmsStatus::Received);
    let (stored, new) = inbox.receive(&first, day).await.expect("receive");
    assert!(new);
    assert_eq!(stored, first);
    let later = t0 + jiff::SignedDuration::from_secs(30);
    let (again, new) = inbox.receive(&item("Rs 5 spent", later, SmsStatus::Received), day).await.expect("receive");
    assert!(!new, "the same SMS within the window is the same item");
    assert_eq!(again.id, first.id);
    let next_week = t0 + jiff::SignedDuration::from_hours(24 * 7);
    let (other, new) = inbox.receive(&item("Rs 5 spent", next_week, SmsStatus::Received), day).await.expect("receive");
    assert!(new && other.id != first.id, "the same text a week later is a new message");

    // Transaction keys: exact keys at any time, near keys inside the window only.
    let (e1, e2, e3) = (EntryId::random(), EntryId::random(), EntryId::random());
    let w = Duration::from_secs(120);
    let refs = ["ref:ABC123".to_owned()];
    let amt = ["amt:debit:INR:500:1234".to_owned()];
    assert_eq!(inbox.claim(u, &refs, &amt, t0, w, e1).await.expect("claim"), None);
    assert_eq!(inbox.claim(u, &refs, &amt, t0, w, e1).await.expect("claim"), None, "a retry of the holder");
    assert_eq!(inbox.claim(u, &refs, &[], next_week, w, e2).await.expect("claim"), Some(e1));
    assert_eq!(inbox.claim(u, &[], &amt, later, w, e2).await.expect("claim"), Some(e1));
    assert_eq!(inbox.claim(u, &[], &amt, next_week, w, e3).await.expect("claim"), None, "outside the window");
    assert_eq!(inbox.claim(user(), &refs, &amt, t0, w, e2).await.expect("claim"), None, "keys are per user");

    // Status updates and listing.
    let mut unparsed = item("Acct 1: took Rs 9", t0, SmsStatus::Unparsed);
    unparsed.reason = Some("no template".into());
    inbox.receive(&unparsed, day).await.expect("receive");
    let mut done = first.clone();
    done.status = SmsStatus::Entered;
    done.entry_id = Some(e1);
    inbox.update(&done).await.expect("update");
    let listed = inbox.items(u, SmsStatus::Unparsed, None, 10).await.expect("items");
    assert_eq!(listed.iter().map(|i| i.id).collect::<Vec<_>>(), vec![unparsed.id]);
    assert_eq!(listed[0].reason.as_deref(), Some("no template"));
    assert!(inbox.items(user(), SmsStatus::Unparsed, None, 10).await.expect("items").is_empty());
    let pending = inbox.pending(&[SmsStatus::Unparsed, SmsStatus::Received], None, 10).await.expect("pending");
    let ids: Vec<_> = pending.iter().filter(|i| i.user_id == u).map(|i| i.id).collect();
    assert!(ids.contains(&unparsed.id) && ids.contains(&other.id) && !ids.contains(&first.id), "{ids:?}");
    let entered = inbox.items(u, SmsStatus::Entered, None, 10).await.expect("items");
    assert_eq!(entered[0].entry_id, Some(e1));

    // Bills: a second reminder updates; a payment to the card settles.
    let bill = card_bill(u, date(2026, 3, 20), first.id, t0);
    let stored = inbox.upsert_bill(&bill).await.expect("bill");
    let again = inbox.upsert_bill(&Bill { id: uuid::Uuid::now_v7(), ..bill.clone() }).await.expect("bill");
    assert_eq!(stored.id, again.id, "a reminder of the same bill");
    assert_eq!(inbox.bills(u).await.expect("bills").len(), 1);
    let pay = |minor: i64, credit: bool| Payment {
        user_id: u,
        entry_id: e3,
        account_last4: Some("7712".into()),
        is_credit: credit,
        currency: "INR".into(),
        amount_minor: minor,
        at: later,
    };
    assert!(inbox.settle(&pay(1_845_000, false)).await.expect("settle").is_empty(), "a purchase pays nothing");
    assert!(inbox.settle(&pay(50_000, true)).await.expect("settle").is_empty(), "below the minimum due");
    assert_eq!(inbox.settle(&pay(92_000, true)).await.expect("settle"), vec![stored.id]);
    let b = &inbox.bills(u).await.expect("bills")[0];
    assert_eq!((b.status, b.paid_by), (BillStatus::Paid, Some(e3)));
    assert!(inbox.bills(user()).await.expect("bills").is_empty());
    inbox.healthcheck().await.expect("healthy");
}

/// Chats: compare-and-set dialogue state, links to users, one-time link codes.
pub async fn chats_story(accounts: Arc<dyn Accounts>, chats: Arc<dyn ChatStore>) {
    let now = Timestamp::from_second(1_800_000_000).expect("ts");
    let new_user = || User {
        id: user(),
        email: format!("{}@example.com", uuid::Uuid::new_v4()),
        settings: settings("Asia/Kolkata"),
        created_at: now,
    };
    let (a, b) = (new_user(), new_user());
    accounts.create_user(&a, "!").await.expect("create a");
    accounts.create_user(&b, "!").await.expect("create b");
    let tg = ChatKey::new(Channel::Telegram, uuid::Uuid::new_v4().to_string()).expect("key");
    let wa = ChatKey::new(Channel::Whatsapp, "919800000001").expect("key");

    assert_eq!(chats.chat(&tg).await.expect("read"), None, "a chat never saved");
    assert_eq!(chats.save(&tg, None, r#"{"step":"new"}"#, 0, now).await.expect("first save"), 1);
    assert!(matches!(chats.save(&tg, None, "{}", 0, now).await, Err(ChatsError::Conflict)), "created twice");
    assert_eq!(chats.save(&tg, Some(a.id), r#"{"step":"ready"}"#, 1, now).await.expect("second save"), 2);
    assert!(matches!(chats.save(&tg, None, "{}", 1, now).await, Err(ChatsError::Conflict)), "a stale version");
    let rec = chats.chat(&tg).await.expect("read").expect("saved");
    assert_eq!((rec.user_id, rec.state.as_str(), rec.version), (Some(a.id), r#"{"step":"ready"}"#, 2));

    // Two messages of one chat at once: exactly one save wins.
    let (x, y) = tokio::join!(chats.save(&tg, Some(a.id), "x", 2, now), chats.save(&tg, Some(a.id), "y", 2, now));
    assert_eq!([x.is_ok(), y.is_ok()].iter().filter(|ok| **ok).count(), 1, "{x:?} {y:?}");

    chats.save(&wa, Some(a.id), "{}", 0, now).await.expect("link whatsapp");
    let mut mine = chats.chats_of(a.id).await.expect("chats of a");
    mine.sort();
    let mut expected = vec![tg.clone(), wa.clone()];
    expected.sort();
    assert_eq!(mine, expected, "one account, Telegram and WhatsApp at once");
    assert!(chats.chats_of(b.id).await.expect("chats of b").is_empty());

    // Link codes: once, before expiry, for their own user.
    let later = now + jiff::SignedDuration::from_mins(10);
    let code = format!("code-{}", uuid::Uuid::new_v4());
    chats.create_link_code(&code, b.id, later).await.expect("create code");
    assert_eq!(chats.redeem_link_code("no-such-code", now).await.expect("redeem"), None);
    assert_eq!(chats.redeem_link_code(&code, now).await.expect("redeem"), Some(b.id));
    assert_eq!(chats.redeem_link_code(&code, now).await.expect("redeem"), None, "used twice");
    let expiring = format!("code-{}", uuid::Uuid::new_v4());
    chats.create_link_code(&expiring, b.id, later).await.expect("create code");
    assert_eq!(chats.redeem_link_code(&expiring, later).await.expect("redeem"), None, "expired");
    chats.healthcheck().await.expect("healthy");
}
