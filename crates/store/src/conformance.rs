//! The behavioural suite every backend runs, through [`conformance_suite!`]: the same
//! cases, the same expectations, so SQLite and PostgreSQL cannot drift apart.
//!
//! Each case gets a fresh, empty store from the backend's `open` function.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::{
    MemberFilter, NewApiKey, NewBusiness, NewSession, NewStaff, SessionKind, Store, StoreError,
    sql::Dialect,
};
use chrono::{DateTime, Duration, TimeZone, Utc};
use stammgast_core::batch::{AuditEntry, Command, IdempotencyKey, Outcome, Request};
use stammgast_core::engine::{CouponStatus, DomainError};
use stammgast_core::event::{Event, EventKind};
use stammgast_core::ids::{
    ApiKeyId, BusinessId, Code, EventId, MemberId, SessionId, Slug, StaffId,
};
use stammgast_core::ledger::Unit;
use stammgast_core::member::{Contact, Email, FirstName, Language, NewMember};
use stammgast_core::money::Cents;
use stammgast_core::points::Points;
use uuid::Uuid;

/// Generates one `#[tokio::test]` per conformance case, each on a store from `$open`.
#[macro_export]
macro_rules! conformance_suite {
    ($open:path) => {
        $crate::conformance_suite!(@cases $open;
            a_business_reads_back_with_its_program_and_key,
            a_joined_member_has_the_signup_bonus_and_can_be_found_by_code,
            a_purchase_earns_points_and_appears_in_history,
            a_replayed_request_returns_the_stored_outcome_and_changes_nothing,
            a_key_reused_for_another_request_is_refused,
            a_second_member_with_the_same_email_is_refused,
            a_coupon_is_used_exactly_once_under_concurrency,
            a_void_takes_back_what_the_event_earned,
            a_large_batch_is_stored_whole_with_its_void,
            a_members_ledger_history_pages_through_each_of_their_transfers_once,
            text_with_tabs_line_ends_and_backslashes_is_stored_as_written,
            one_business_cannot_read_or_change_anothers_members,
            concurrent_submissions_are_group_committed_and_reconcile,
            requests_whose_callers_left_are_committed_before_settle_returns,
            member_lists_page_through_every_member_once,
            members_are_found_by_name_contact_or_code_and_by_tier,
            web_sessions_expire_and_staff_emails_are_unique,
            an_erased_member_keeps_the_ledger_and_loses_the_profile,
            expired_points_are_found_and_expired,
            a_bad_cursor_is_refused,
            analytics_reads_a_businesss_history_and_only_its_own,
            the_running_aggregates_agree_with_the_history_they_summarise,
            custom_segment_moves_are_recorded_once_and_profiles_read_what_filters_ask,
            the_outbox_leases_each_message_to_one_worker_and_keeps_its_status
        );
    };
    (@cases $open:path; $($case:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let store = $open().await;
                $crate::conformance::$case(store).await;
            }
        )*
    };
}

pub const PROGRAM: &str = r#"{
  "points": {"expiry": {"policy": "after_days", "days": 30}},
  "stamp_cards": [{"id": "coffee", "name": "Kaffee", "stamps_required": 5, "reward": "free-coffee"}],
  "rewards": [
    {"id": "free-coffee", "name": "Kaffee", "cost": {}, "kind": {"type": "free_product", "product": "Kaffee"}},
    {"id": "cake", "name": "Kuchen", "cost": {"points": 20}, "kind": {"type": "free_product", "product": "Kuchen"}}
  ],
  "rules": [
    {"id": "welcome", "when": {"event": "signup"}, "then": {"points": 10}},
    {"id": "euro", "when": {"event": "purchase"}, "then": {"points_per_amount": {"points": 1, "per": "1.00"}}},
    {"id": "coffee", "when": {"event": "visit"}, "then": {"stamps": {"card": "coffee"}}}
  ]}"#;

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 4, 9, 30, 0).unwrap()
}

fn fresh() -> u128 {
    Uuid::new_v4().as_u128()
}

pub async fn new_business(store: &Store) -> BusinessId {
    let id = BusinessId::from_uuid(Uuid::new_v4());
    store
        .create_business(NewBusiness {
            id,
            name: "Café Morgenrot".into(),
            program: PROGRAM.into(),
            api_key: NewApiKey {
                id: ApiKeyId::from_uuid(Uuid::new_v4()),
                secret_hash: "hash".into(),
                scopes: vec!["members:write".into(), "events:write".into()],
                label: "test".into(),
            },
            created_at: now(),
        })
        .await
        .unwrap();
    id
}

pub fn request(business: BusinessId, command: Command) -> Request {
    Request {
        business_id: business,
        key: None,
        actor: "conformance".into(),
        now: now(),
        seed: fresh(),
        command,
    }
}

pub fn join_command(email: &str) -> Command {
    Command::Join {
        member: NewMember {
            id: MemberId::from_uuid(Uuid::new_v4()),
            code: Code::from_entropy(fresh(), 8),
            first_name: FirstName::parse("Anna").unwrap(),
            contact: Contact::new(Some(Email::parse(email).unwrap()), None).unwrap(),
            birthday: None,
            language: Language::De,
            consents: Vec::new(),
        },
        signup_event: EventId::from_uuid(Uuid::new_v4()),
    }
}

pub fn purchase(member: MemberId, euros: i64, at: DateTime<Utc>) -> Command {
    Command::Record {
        event: Event {
            id: EventId::from_uuid(Uuid::new_v4()),
            member_id: member,
            kind: EventKind::Purchase {
                amount: Cents::new(euros * 100).unwrap(),
                items: vec![],
            },
            location_id: None,
            occurred_at: at,
        },
    }
}

async fn submit_one(store: &Store, request: Request) -> Result<Outcome, DomainError> {
    store.submit(vec![request]).await.unwrap().remove(0)
}

pub async fn join(store: &Store, business: BusinessId, email: &str) -> MemberId {
    match submit_one(store, request(business, join_command(email))).await {
        Ok(Outcome::Joined { member_id, .. }) => member_id,
        other => panic!("join failed: {other:?}"),
    }
}

pub async fn points(store: &Store, business: BusinessId, member: MemberId) -> i64 {
    let record = store.member(business, member).await.unwrap().unwrap();
    record.state.points.available()
}

pub async fn assert_ledger_consistent(store: &Store, business: BusinessId) {
    let violations = store.ledger_snapshot(business).await.unwrap().violations();
    assert!(violations.is_empty(), "ledger violations: {violations:?}");
}

pub async fn a_business_reads_back_with_its_program_and_key(store: Store) {
    let business = new_business(&store).await;
    let record = store.business(business).await.unwrap().unwrap();
    assert_eq!(record.name, "Café Morgenrot");
    assert_eq!(record.program_version, 1);
    let version = store
        .publish_program(business, PROGRAM.into(), now())
        .await
        .unwrap();
    assert_eq!(version, 2);
    assert!(store.businesses().await.unwrap().contains(&business));
    assert!(store.program(business).await.unwrap().is_some());
}

pub async fn a_joined_member_has_the_signup_bonus_and_can_be_found_by_code(store: Store) {
    let business = new_business(&store).await;
    let member = join(&store, business, "anna@example.com").await;
    let record = store.member(business, member).await.unwrap().unwrap();
    assert_eq!(record.state.points.available(), 10);
    assert_eq!(record.email.as_deref(), Some("anna@example.com"));
    let by_code = store
        .member_by_code(business, record.code.clone())
        .await
        .unwrap();
    assert_eq!(by_code.map(|m| m.id), Some(member));
}

pub async fn a_purchase_earns_points_and_appears_in_history(store: Store) {
    let business = new_business(&store).await;
    let member = join(&store, business, "anna@example.com").await;
    let outcome = submit_one(
        &store,
        request(business, purchase(member, 12, now() + Duration::minutes(5))),
    )
    .await;
    assert!(
        matches!(outcome, Ok(Outcome::Event(ref e)) if e.points_earned == Points::new(12)),
        "{outcome:?}"
    );
    assert_eq!(points(&store, business, member).await, 22);
    let events = store
        .member_events(business, member, None, 10)
        .await
        .unwrap();
    assert_eq!(events.items.len(), 2, "signup and purchase");
    assert_eq!(
        events.items[0].points_earned,
        Points::new(12),
        "newest first"
    );
    let transfers = store
        .member_transfers(business, member, None, 10)
        .await
        .unwrap();
    assert_eq!(transfers.items.iter().map(|t| t.amount).sum::<i64>(), 22);
    assert_ledger_consistent(&store, business).await;
}

pub fn keyed(mut request: Request, key: &str, fingerprint: &str) -> Request {
    request.key = Some(IdempotencyKey {
        key: key.into(),
        fingerprint: fingerprint.into(),
    });
    request
}

pub async fn a_replayed_request_returns_the_stored_outcome_and_changes_nothing(store: Store) {
    let business = new_business(&store).await;
    let member = join(&store, business, "anna@example.com").await;
    let command = purchase(member, 7, now());
    let first = submit_one(&store, keyed(request(business, command.clone()), "k1", "f")).await;
    let again = submit_one(&store, keyed(request(business, command), "k1", "f")).await;
    assert_eq!(first, again);
    assert_eq!(points(&store, business, member).await, 17);
    let events = store
        .member_events(business, member, None, 10)
        .await
        .unwrap();
    assert_eq!(events.items.len(), 2);
}

pub async fn a_key_reused_for_another_request_is_refused(store: Store) {
    let business = new_business(&store).await;
    let member = join(&store, business, "anna@example.com").await;
    let first = submit_one(
        &store,
        keyed(request(business, purchase(member, 7, now())), "k", "a"),
    )
    .await;
    assert!(first.is_ok());
    let other = submit_one(
        &store,
        keyed(request(business, purchase(member, 9, now())), "k", "b"),
    )
    .await;
    assert_eq!(other, Err(DomainError::IdempotencyKeyReused));
    assert_eq!(points(&store, business, member).await, 17);
}

pub async fn a_second_member_with_the_same_email_is_refused(store: Store) {
    let business = new_business(&store).await;
    join(&store, business, "anna@example.com").await;
    let again = submit_one(&store, request(business, join_command("ANNA@example.com"))).await;
    assert_eq!(again, Err(DomainError::ContactTaken("email".into())));
    let other_business = new_business(&store).await;
    join(&store, other_business, "anna@example.com").await;
}

pub async fn a_coupon_is_used_exactly_once_under_concurrency(store: Store) {
    let business = new_business(&store).await;
    let member = join(&store, business, "anna@example.com").await;
    submit_one(&store, request(business, purchase(member, 15, now())))
        .await
        .unwrap();
    let redeemed = submit_one(
        &store,
        request(
            business,
            Command::Redeem {
                member_id: member,
                reward_id: Slug::parse("cake").unwrap(),
            },
        ),
    )
    .await;
    let Ok(Outcome::Coupon(coupon)) = redeemed else {
        panic!("redeem failed: {redeemed:?}")
    };
    assert_eq!(
        points(&store, business, member).await,
        5,
        "25 earned, 20 held"
    );
    let attempts = (0..50).map(|_| {
        let store = store.clone();
        let command = Command::UseCoupon {
            code: coupon.code.clone(),
        };
        tokio::spawn(async move { submit_one(&store, request(business, command)).await })
    });
    let mut used = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            Ok(_) => used += 1,
            Err(error) => assert_eq!(error, DomainError::CouponAlreadyUsed(coupon.code.clone())),
        }
    }
    assert_eq!(used, 1);
    let stored = store
        .coupon(business, coupon.code.clone())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, CouponStatus::Redeemed);
    assert_eq!(points(&store, business, member).await, 5);
    assert_ledger_consistent(&store, business).await;
}

/// A business with a member who has made one purchase of 30 €: (business, member, the
/// purchase's event, the command that voids it).
async fn one_purchase_to_void(store: &Store) -> (BusinessId, MemberId, EventId, Command) {
    let business = new_business(store).await;
    let member = join(store, business, "anna@example.com").await;
    let Ok(Outcome::Event(event)) =
        submit_one(store, request(business, purchase(member, 30, now()))).await
    else {
        panic!("purchase failed")
    };
    let void = Command::Void {
        event_id: event.event_id,
        reason: "wrong member".into(),
    };
    (business, member, event.event_id, void)
}

pub async fn a_void_takes_back_what_the_event_earned(store: Store) {
    let (business, member, event, void) = one_purchase_to_void(&store).await;
    let voided = submit_one(&store, request(business, void.clone())).await;
    assert!(
        matches!(voided, Ok(Outcome::Reversal(ref r)) if r.points_reversed == Points::new(30)),
        "{voided:?}"
    );
    assert_eq!(points(&store, business, member).await, 10);
    let twice = submit_one(&store, request(business, void)).await;
    assert_eq!(twice, Err(DomainError::EventAlreadyVoided(event)));
    assert_ledger_consistent(&store, business).await;
}

/// A batch large enough that its rows are encoded beside the inserts: every purchase is
/// stored, and a void among them leaves its event voided.
pub async fn a_large_batch_is_stored_whole_with_its_void(store: Store) {
    let (business, member, event, void) = one_purchase_to_void(&store).await;
    let purchases = (0..1_000).map(|_| request(business, purchase(member, 1, now())));
    let batch: Vec<Request> = std::iter::once(request(business, void.clone()))
        .chain(purchases)
        .collect();
    let decisions = store.submit(batch).await.unwrap();
    assert!(
        decisions.iter().all(Result::is_ok),
        "{:?}",
        decisions.iter().find(|d| d.is_err())
    );
    assert_eq!(points(&store, business, member).await, 10 + 1_000);
    let again = submit_one(&store, request(business, void)).await;
    assert_eq!(again, Err(DomainError::EventAlreadyVoided(event)));
    assert_ledger_consistent(&store, business).await;
}

/// A member's transfers come from two places (those of their events, found through the
/// events, and the others by member): the history shows each exactly once, newest first,
/// and nobody else's.
pub async fn a_members_ledger_history_pages_through_each_of_their_transfers_once(store: Store) {
    let business = new_business(&store).await;
    let anna = join(&store, business, "anna@example.com").await;
    let ben = join(&store, business, "ben@example.com").await;
    let Ok(Outcome::Event(bought)) =
        submit_one(&store, request(business, purchase(anna, 30, now()))).await
    else {
        panic!("purchase failed")
    };
    submit_one(&store, request(business, purchase(ben, 12, now())))
        .await
        .unwrap();
    let commands = [
        Command::Adjust {
            member_id: anna,
            unit: Unit::Points,
            delta: 20,
            reason: "Kulanz".into(),
        },
        Command::Void {
            event_id: bought.event_id,
            reason: "wrong member".into(),
        },
        Command::Redeem {
            member_id: anna,
            reward_id: Slug::parse("cake").unwrap(),
        },
    ];
    for command in commands {
        let outcome = submit_one(&store, request(business, command)).await;
        assert!(outcome.is_ok(), "{outcome:?}");
    }
    assert_eq!(
        points(&store, business, anna).await,
        10,
        "60 earned, 30 voided, 20 held"
    );
    let mut paged = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .member_transfers(business, anna, cursor, 2)
            .await
            .unwrap();
        paged.extend(page.items.iter().map(|t| (t.created_at, t.id)));
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    let snapshot = store.ledger_snapshot(business).await.unwrap();
    let mut expected: Vec<_> = snapshot
        .transfers
        .iter()
        .filter(|t| t.credit.member() == Some(anna) || t.debit.member() == Some(anna))
        .map(|t| (t.created_at, t.id))
        .collect();
    expected.sort_by(|a, b| b.cmp(a));
    assert_eq!(
        expected.len(),
        5,
        "signup bonus, purchase, adjustment, void, hold"
    );
    assert_eq!(paged, expected);
    assert_ledger_consistent(&store, business).await;
}

/// PostgreSQL's bulk path (`COPY`, taken by a batch too large for one `INSERT`) gives
/// tabs, line ends and backslashes meanings of their own: a reason holding them, and the
/// JSON of the audit entries that quote it, read back as written.
pub async fn text_with_tabs_line_ends_and_backslashes_is_stored_as_written(store: Store) {
    let business = new_business(&store).await;
    let anna = join(&store, business, "anna@example.com").await;
    let reason = "Kulanz:\tKaffee\r\nkalt \\N \\\\ \"C:\\Temp\"";
    let count = Dialect::Postgres.rows_per_insert() + 1;
    let adjustments = (0..count)
        .map(|_| {
            request(
                business,
                Command::Adjust {
                    member_id: anna,
                    unit: Unit::Points,
                    delta: 1,
                    reason: reason.into(),
                },
            )
        })
        .collect();
    let outcomes = store.submit(adjustments).await.unwrap();
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    let snapshot = store.ledger_snapshot(business).await.unwrap();
    let memos = snapshot.transfers.iter().filter(|t| t.memo == reason);
    assert_eq!(memos.count(), count);
    let audit = store.audit_log(business, None, count).await.unwrap();
    let reasons = audit
        .items
        .iter()
        .filter(|entry| entry.detail["reason"].as_str() == Some(reason));
    assert_eq!(reasons.count(), count);
    assert_ledger_consistent(&store, business).await;
}

pub async fn one_business_cannot_read_or_change_anothers_members(store: Store) {
    let owner = new_business(&store).await;
    let intruder = new_business(&store).await;
    let member = join(&store, owner, "anna@example.com").await;
    let code = store.member(owner, member).await.unwrap().unwrap().code;
    assert_eq!(store.member(intruder, member).await.unwrap(), None);
    assert_eq!(store.member_by_code(intruder, code).await.unwrap(), None);
    assert!(
        store
            .member_events(intruder, member, None, 10)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let taken = submit_one(&store, request(intruder, purchase(member, 50, now()))).await;
    assert_eq!(taken, Err(DomainError::MemberNotFound(member)));
    let adjust = Command::Adjust {
        member_id: member,
        unit: Unit::Points,
        delta: -10,
        reason: "x".into(),
    };
    assert_eq!(
        submit_one(&store, request(intruder, adjust)).await,
        Err(DomainError::MemberNotFound(member))
    );
    assert_eq!(points(&store, owner, member).await, 10);
}

pub async fn concurrent_submissions_are_group_committed_and_reconcile(store: Store) {
    let business = new_business(&store).await;
    let member = join(&store, business, "anna@example.com").await;
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let store = store.clone();
            let command = if i % 2 == 0 {
                purchase(member, 1, now())
            } else {
                join_command(&format!("m{i}@example.com"))
            };
            tokio::spawn(async move { submit_one(&store, request(business, command)).await })
        })
        .collect();
    for task in tasks {
        assert!(task.await.unwrap().is_ok());
    }
    assert_eq!(points(&store, business, member).await, 110);
    let members = store
        .members(business, &MemberFilter::default(), None, 500)
        .await
        .unwrap();
    assert_eq!(members.items.len(), 101);
    assert_ledger_consistent(&store, business).await;
}

/// A caller that stops waiting (a client gone mid-request) does not take its request back:
/// once queued it is committed, and `settle` returns only after it is.
pub async fn requests_whose_callers_left_are_committed_before_settle_returns(store: Store) {
    let business = new_business(&store).await;
    let member = join(&store, business, "anna@example.com").await;
    let before = points(&store, business, member).await;
    // Enough work that the writer is still at it when the last caller leaves.
    for _ in 0..20 {
        let purchases = (0..500)
            .map(|_| request(business, purchase(member, 1, now())))
            .collect();
        // Polled once, which queues the requests, and then dropped.
        let _ = tokio::time::timeout(std::time::Duration::ZERO, store.submit(purchases)).await;
    }
    store.settle().await.unwrap();
    assert_eq!(points(&store, business, member).await, before + 10_000);
    assert_ledger_consistent(&store, business).await;
}

pub async fn member_lists_page_through_every_member_once(store: Store) {
    let business = new_business(&store).await;
    let batch: Vec<_> = (0..25)
        .map(|i| request(business, join_command(&format!("p{i}@example.com"))))
        .collect();
    assert!(store.submit(batch).await.unwrap().iter().all(Result::is_ok));
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .members(business, &MemberFilter::default(), cursor, 10)
            .await
            .unwrap();
        assert!(page.items.len() <= 10);
        seen.extend(page.items.into_iter().map(|m| m.id));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 25);
}

pub async fn members_are_found_by_name_contact_or_code_and_by_tier(store: Store) {
    let business = new_business(&store).await;
    let anna = join(&store, business, "anna@example.com").await;
    join(&store, business, "ben@example.org").await;
    let other = new_business(&store).await;
    join(&store, other, "anna@example.net").await;
    let code = store.member(business, anna).await.unwrap().unwrap().code;
    let found = |text: &str, tier: Option<&str>| {
        let filter = MemberFilter {
            text: Some(text.to_owned()).filter(|t| !t.is_empty()),
            tier: tier.map(str::to_owned),
        };
        let store = store.clone();
        async move {
            let page = store.members(business, &filter, None, 50).await.unwrap();
            page.items.into_iter().map(|m| m.id).collect::<Vec<_>>()
        }
    };
    assert_eq!(
        found("ANNA@", None).await,
        vec![anna],
        "contact, any case, this business only"
    );
    assert_eq!(
        found(&code.to_string().to_lowercase(), None).await,
        vec![anna],
        "code"
    );
    assert_eq!(found("example", None).await.len(), 2);
    assert_eq!(found("", Some("gold")).await.len(), 0, "nobody is gold yet");
    assert_eq!(found("%", None).await.len(), 0, "wildcards are literal");
}

pub async fn web_sessions_expire_and_staff_emails_are_unique(store: Store) {
    let business = new_business(&store).await;
    let staff = |email: &str| NewStaff {
        business_id: business,
        id: StaffId::from_uuid(Uuid::new_v4()),
        email: email.to_owned(),
        name: "Tom".into(),
        role: "cashier".into(),
        password_hash: "x".into(),
        created_at: now(),
    };
    store.create_staff(staff("tom@example.com")).await.unwrap();
    let again = store.create_staff(staff("tom@example.com")).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    let session = SessionId::from_uuid(Uuid::new_v4());
    store
        .create_session(NewSession {
            business_id: business,
            id: session,
            secret_hash: "h".into(),
            kind: SessionKind::Staff,
            subject_id: "s".into(),
            csrf_token: "c".into(),
            created_at: now(),
            expires_at: now() + Duration::hours(1),
        })
        .await
        .unwrap();
    assert!(store.session(session, now()).await.unwrap().is_some());
    assert!(
        store
            .session(session, now() + Duration::hours(2))
            .await
            .unwrap()
            .is_none()
    );
    store.delete_session(business, session).await.unwrap();
    assert!(store.session(session, now()).await.unwrap().is_none());
}

/// The audit entry of erasing `member`.
fn erasure(business: BusinessId, member: MemberId) -> AuditEntry {
    AuditEntry {
        business_id: business,
        id: Uuid::new_v4(),
        at: now(),
        actor: "conformance".into(),
        action: "erase".into(),
        subject: format!("member:{member}"),
        detail: serde_json::json!({}),
    }
}

pub async fn an_erased_member_keeps_the_ledger_and_loses_the_profile(store: Store) {
    let business = new_business(&store).await;
    let member = join(&store, business, "anna@example.com").await;
    let answer = crate::NewSurveyAnswer {
        id: Uuid::new_v4(),
        member_id: member,
        score: 9,
        comment: "Anna aus der Bahnhofstraße".into(),
        location_id: None,
        answered_at: now(),
        source: "journey:nps".into(),
        publish_consent_at: Some(now()),
    };
    store.record_survey_answer(business, answer).await.unwrap();
    let enrolment = crate::Enrolment {
        journey: Slug::parse("win-back").unwrap(),
        member_id: member,
        occasion: "quiet-since:1".into(),
        arm: stammgast_core::automation::journey::Arm::Message,
        at: now(),
        send_from: Some(now()),
        grant_points: 0,
        add_tag: None,
        channel: stammgast_core::member::Channel::Email,
    };
    assert!(store.enrol(business, enrolment).await.unwrap());
    let message = store.member_messages(business, member).await.unwrap()[0].id;
    store
        .keep_message_copy(business, message, "Hallo Anna".into(), "Komm vorbei".into())
        .await
        .unwrap();
    store
        .settle_message(business, message, crate::Settled::Sent, now())
        .await
        .unwrap();
    let inbox = store.member_inbox(business, member, 10).await.unwrap();
    assert_eq!(inbox.len(), 1, "the card's message box has the mail");
    assert_eq!(inbox[0].subject, "Hallo Anna");
    let audit = erasure(business, member);
    let new_code = Code::from_entropy(fresh(), 8);
    store
        .erase_member(business, member, new_code.clone(), audit.clone())
        .await
        .unwrap();
    assert!(
        store
            .survey_comments(business, 10)
            .await
            .unwrap()
            .is_empty(),
        "what they wrote is gone"
    );
    assert!(
        store
            .member_inbox(business, member, 10)
            .await
            .unwrap()
            .is_empty(),
        "and the copies of what they were sent"
    );
    let erased = store.member(business, member).await.unwrap().unwrap();
    assert_eq!(
        (erased.first_name.as_str(), erased.email.as_deref()),
        ("", None)
    );
    assert_eq!(erased.code, new_code);
    assert_eq!(
        points(&store, business, member).await,
        10,
        "the ledger stays"
    );
    let twice = store
        .erase_member(
            business,
            member,
            Code::from_entropy(fresh(), 8),
            audit.clone(),
        )
        .await;
    assert!(matches!(twice, Err(StoreError::NotFound)), "{twice:?}");
    let log = store.audit_log(business, None, 10).await.unwrap();
    assert_eq!(log.items, vec![audit], "the erasure is in the audit log");
    assert_ledger_consistent(&store, business).await;
}

pub async fn expired_points_are_found_and_expired(store: Store) {
    let business = new_business(&store).await;
    let member = join(&store, business, "anna@example.com").await;
    let later = now() + Duration::days(40);
    let due = store
        .members_with_expired_points(business, later, 100)
        .await
        .unwrap();
    assert_eq!(due, vec![member]);
    let mut expire = request(business, Command::Expire { member_id: member });
    expire.now = later;
    let outcome = submit_one(&store, expire).await;
    assert!(
        matches!(outcome, Ok(Outcome::Maintenance(ref m)) if m.points_expired == Points::new(10)),
        "{outcome:?}"
    );
    assert_eq!(points(&store, business, member).await, 0);
    assert!(
        store
            .members_with_expired_points(business, later, 100)
            .await
            .unwrap()
            .is_empty()
    );
    assert_ledger_consistent(&store, business).await;
}

pub async fn a_bad_cursor_is_refused(store: Store) {
    let business = new_business(&store).await;
    let result = store
        .members(
            business,
            &MemberFilter::default(),
            Some("nonsense".into()),
            10,
        )
        .await;
    assert!(
        matches!(result, Err(StoreError::BadCursor(_))),
        "{result:?}"
    );
}

pub async fn analytics_reads_a_businesss_history_and_only_its_own(store: Store) {
    use stammgast_core::analytics::history::Period;
    let business = new_business(&store).await;
    let other = new_business(&store).await;
    let anna = join(&store, business, "anna@example.com").await;
    join(&store, business, "ben@example.com").await;
    let stranger = join(&store, other, "anna@example.com").await;
    submit_one(&store, request(other, purchase(stranger, 50, now())))
        .await
        .unwrap();
    submit_one(
        &store,
        request(business, purchase(anna, 12, now() + Duration::minutes(1))),
    )
    .await
    .unwrap();
    let mistake = purchase(anna, 30, now() + Duration::minutes(2));
    let Command::Record { event } = &mistake else {
        unreachable!()
    };
    let mistake_id = event.id;
    submit_one(&store, request(business, mistake))
        .await
        .unwrap();
    let void = Command::Void {
        event_id: mistake_id,
        reason: "wrong member".into(),
    };
    submit_one(&store, request(business, void)).await.unwrap();
    let answer = crate::NewSurveyAnswer {
        id: Uuid::new_v4(),
        member_id: anna,
        score: 9,
        comment: "Bester Kaffee".into(),
        location_id: None,
        answered_at: now(),
        source: "journey:nps".into(),
        publish_consent_at: None,
    };
    store
        .record_survey_answer(business, answer.clone())
        .await
        .unwrap();
    let answered_again = crate::NewSurveyAnswer {
        score: 10,
        publish_consent_at: Some(now()),
        ..answer
    };
    store
        .record_survey_answer(business, answered_again)
        .await
        .unwrap();
    let comments = store.survey_comments(business, 10).await.unwrap();
    assert_eq!(comments.len(), 1, "the same survey answered again replaces");
    assert_eq!(
        (comments[0].score, comments[0].first_name.as_str()),
        (10, "Anna")
    );
    assert_eq!(comments[0].publish_consent_at, Some(now()));

    let history = store.analytics_history(business).await.unwrap();
    assert_eq!(
        history.members.len(),
        2,
        "the other business's member is not counted"
    );
    assert_eq!(history.visits.len(), 1, "the voided purchase is left out");
    assert_eq!(
        (history.visits[0].member_id, history.visits[0].revenue_cents),
        (anna, 1_200)
    );
    assert_eq!(history.survey_answers.len(), 1);
    let day = Period {
        from: now() - Duration::hours(1),
        to: now() + Duration::hours(1),
    };
    let facts = history.facts(day, None, None);
    assert_eq!(
        (facts.new_members, facts.purchases, facts.revenue_cents),
        (2, 1, 1_200)
    );
    assert_eq!(
        facts.points_outstanding,
        10 + 10 + 12,
        "two sign-up bonuses and 12 € of points"
    );
    assert_eq!(
        facts.points_issued, 32,
        "the voided purchase's points were taken back"
    );
    assert_eq!(facts.nps.promoters, 1);
}

/// Six months of a small café through the store — joins, purchases of one or several
/// kinds, stamps, voids, refunds, rewards redeemed and used — then every calendar month,
/// quarter and the year so far read from the running aggregates must give the facts an
/// exact count over the history gives, and so must the cohorts.
pub async fn the_running_aggregates_agree_with_the_history_they_summarise(store: Store) {
    use chrono::{NaiveDate, TimeZone as _};
    use stammgast_core::analytics::history::Period;
    use stammgast_core::event::Item;
    use stammgast_core::seeded::Rng;
    let business = new_business(&store).await;
    let start = Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap();
    let at =
        |day: u64, hour: u64| start + Duration::days(day as i64) + Duration::hours(hour as i64);
    let mut rng = Rng::new(11);
    let mut members = Vec::new();
    let mut purchases = Vec::new();
    for day in 0..170u64 {
        let mut requests = Vec::new();
        if rng.below(3) == 0 || members.len() < 3 {
            let command = join_command(&format!("gast{day}@example.com"));
            let Command::Join { member, .. } = &command else {
                unreachable!()
            };
            members.push(member.id);
            requests.push(Request {
                now: at(day, 0),
                ..request(business, command)
            });
        }
        for (index, member) in members.iter().enumerate() {
            if rng.below(4) != 0 {
                continue;
            }
            let categories: &[&str] = match rng.below(3) {
                0 => &["coffee"],
                1 => &["coffee", "cake"],
                _ => &[],
            };
            let event = Event {
                id: EventId::from_uuid(Uuid::new_v4()),
                member_id: *member,
                kind: if categories.is_empty() && index % 2 == 0 {
                    EventKind::Visit
                } else {
                    let items = categories
                        .iter()
                        .map(|c| Item {
                            sku: None,
                            category: Some((*c).into()),
                            quantity: 1,
                            amount: None,
                        })
                        .collect();
                    EventKind::Purchase {
                        amount: Cents::new(250 + 100 * rng.below(20) as i64).unwrap(),
                        items,
                    }
                },
                location_id: None,
                occurred_at: at(day, 1 + rng.below(8)),
            };
            if matches!(event.kind, EventKind::Purchase { .. }) {
                purchases.push(event.id);
            }
            requests.push(Request {
                now: event.occurred_at,
                ..request(business, Command::Record { event })
            });
        }
        for request in requests {
            let _ = submit_one(&store, request).await;
        }
        let evening = at(day, 10);
        if day % 9 == 4
            && let Some(event_id) = purchases.pop()
        {
            let void = Command::Void {
                event_id,
                reason: "Irrtum".into(),
            };
            let _ = submit_one(
                &store,
                Request {
                    now: evening,
                    ..request(business, void)
                },
            )
            .await;
        }
        if day % 13 == 6
            && let Some(event_id) = purchases.first().copied()
        {
            let refund = Command::Refund {
                event_id,
                amount: Cents::new(100).unwrap(),
                reason: "Kaffee kalt".into(),
            };
            let _ = submit_one(
                &store,
                Request {
                    now: evening,
                    ..request(business, refund)
                },
            )
            .await;
        }
        if day % 7 == 3 {
            let member_id = members[rng.below(members.len() as u64) as usize];
            let redeem = Command::Redeem {
                member_id,
                reward_id: Slug::parse("cake").unwrap(),
            };
            if let Ok(Outcome::Coupon(coupon)) = submit_one(
                &store,
                Request {
                    now: evening,
                    ..request(business, redeem)
                },
            )
            .await
            {
                let use_it = Command::UseCoupon { code: coupon.code };
                submit_one(
                    &store,
                    Request {
                        now: evening + Duration::minutes(5),
                        ..request(business, use_it)
                    },
                )
                .await
                .unwrap();
            }
        }
    }

    let history = store.analytics_history(business).await.unwrap();
    let rollups = store.analytics_rollups(business).await.unwrap();
    let zone = store.program(business).await.unwrap().unwrap().time_zone();
    let midnight = |date: NaiveDate| {
        zone.from_local_datetime(&date.and_hms_opt(0, 0, 0).unwrap())
            .unwrap()
            .with_timezone(&Utc)
    };
    let today = at(170, 0).with_timezone(&zone).date_naive();
    let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    let periods = [
        (date(2026, 1, 1), date(2026, 1, 31)),
        (date(2026, 2, 1), date(2026, 2, 28)),
        (date(2026, 3, 1), date(2026, 3, 31)),
        (date(2026, 6, 1), date(2026, 6, 30)),
        (date(2026, 1, 1), date(2026, 3, 31)),
        (date(2026, 4, 1), date(2026, 6, 30)),
        (date(2026, 1, 1), date(2026, 12, 31)),
        (date(2026, 6, 1), today),
    ];
    let mut compared = 0;
    for (from, to) in periods {
        let period = Period {
            from: midnight(from),
            to: midnight(to.succ_opt().unwrap()),
        };
        let exact = history.facts(period, None, None);
        let fast = rollups
            .period(from, to, today)
            .expect("a calendar span")
            .facts(period.days(), 100);
        let exact = stammgast_core::analytics::facts::PeriodFacts {
            nps: Default::default(),
            ..exact
        };
        assert_eq!(fast, exact, "{from} to {to}");
        compared += u64::from(exact.active_members > 0);
    }
    assert!(
        compared >= 6,
        "the history has activity in the periods compared"
    );
    assert!(
        rollups
            .period(date(2026, 2, 3), date(2026, 2, 20), today)
            .is_none(),
        "no distinct counts for days mid-month"
    );
    assert_eq!(rollups.cohort_counts(), history.cohort_counts(None));
    let facts = history.facts(
        Period {
            from: midnight(date(2026, 1, 1)),
            to: midnight(date(2027, 1, 1)),
        },
        None,
        None,
    );
    assert!(
        facts.coupons_used > 0 && facts.multi_kind_members > 0 && facts.single_kind_members > 0,
        "{facts:?}"
    );
}

pub async fn custom_segment_moves_are_recorded_once_and_profiles_read_what_filters_ask(
    store: Store,
) {
    use crate::{CustomMove, CustomSegmentRecord};
    use stammgast_core::event::Item;
    use stammgast_core::member::{Channel, Consent, ConsentPurpose};

    let business = new_business(&store).await;
    let other = new_business(&store).await;
    let member = join(&store, business, "anna@example.com").await;
    let cake = |category: &str| Item {
        sku: None,
        category: Some(category.into()),
        quantity: 1,
        amount: None,
    };
    let mut bought = purchase(member, 7, now() + Duration::minutes(5));
    if let Command::Record { event } = &mut bought {
        event.kind = EventKind::Purchase {
            amount: Cents::new(700).unwrap(),
            items: vec![cake("Kuchen"), cake(" kuchen"), cake("Tee")],
        };
    }
    submit_one(&store, request(business, bought)).await.unwrap();
    let vip = Slug::parse("vip").unwrap();
    assert!(
        store
            .add_member_tag(business, member, vip.clone(), now())
            .await
            .unwrap()
    );
    assert!(
        !store
            .add_member_tag(business, member, vip.clone(), now())
            .await
            .unwrap(),
        "tagging twice changes nothing"
    );
    let email = Consent {
        purpose: ConsentPurpose::Marketing(Channel::Email),
        text_version: "2026-01".into(),
        source: "conformance".into(),
    };
    store
        .change_consents(business, member, vec![email], vec![], now())
        .await
        .unwrap();
    let unconfirmed = store.member_profiles(business).await.unwrap();
    assert!(
        unconfirmed[0].consents.is_empty(),
        "marketing by email counts once confirmed"
    );
    let queued = store.member_messages(business, member).await.unwrap();
    assert_eq!(
        queued
            .iter()
            .map(|m| (m.kind, m.status.as_str()))
            .collect::<Vec<_>>(),
        [(stammgast_core::outbox::MessageKind::ConfirmEmail, "pending")],
        "the confirmation mail is queued with the consent"
    );
    let purpose = ConsentPurpose::Marketing(Channel::Email);
    assert!(
        store
            .confirm_consent(business, member, purpose, now())
            .await
            .unwrap()
    );
    assert!(
        !store
            .confirm_consent(business, member, purpose, now())
            .await
            .unwrap(),
        "confirmed once"
    );

    let profiles = store.member_profiles(business).await.unwrap();
    assert_eq!(profiles.len(), 1);
    let profile = &profiles[0];
    assert_eq!(profile.aggregate.member_id, member);
    assert_eq!(profile.aggregate.spend_cents, 700);
    assert_eq!(profile.points, 17);
    assert_eq!(profile.categories, ["kuchen", "tee"]);
    assert_eq!(profile.tags, std::slice::from_ref(&vip));
    assert_eq!(profile.consents, [Channel::Email]);
    assert!(store.member_profiles(other).await.unwrap().is_empty());

    let slug = Slug::parse("kuchen").unwrap();
    store
        .save_custom_segment(
            business,
            CustomSegmentRecord {
                slug: slug.clone(),
                name: "Kuchenfreunde".into(),
                filter: "bought kuchen".into(),
                created_at: now(),
                updated_at: now(),
            },
        )
        .await
        .unwrap();
    let moving = |entered| {
        vec![CustomMove {
            member_id: member,
            entered,
            transition_id: Uuid::new_v4(),
        }]
    };
    for (entered, at) in [(true, now()), (false, now() + Duration::minutes(5))] {
        let (first, second) = tokio::join!(
            store.record_custom_moves(business, slug.clone(), moving(entered), at),
            store.record_custom_moves(business, slug.clone(), moving(entered), at),
        );
        assert_eq!(
            first.unwrap() + second.unwrap(),
            1,
            "two workers moving the same member record it once"
        );
        let members = store
            .custom_segment_members(business, slug.clone())
            .await
            .unwrap();
        assert_eq!(members.contains(&member), entered);
    }
    let transitions: Vec<(String, bool)> = store
        .segment_transitions(business, now(), 10)
        .await
        .unwrap()
        .into_iter()
        .filter(|t| t.segment.starts_with("custom:"))
        .map(|t| (t.segment, t.entered))
        .collect();
    assert_eq!(
        transitions,
        [
            ("custom:kuchen".to_owned(), true),
            ("custom:kuchen".to_owned(), false)
        ]
    );
    assert!(store.custom_segments(other).await.unwrap().is_empty());
    assert!(matches!(
        store.delete_custom_segment(other, slug.clone()).await,
        Err(StoreError::NotFound)
    ));
    assert!(store.member_tags(other, member).await.unwrap().is_empty());
    assert!(
        !store
            .remove_member_tag(other, member, vip.clone())
            .await
            .unwrap()
    );
    assert_eq!(store.custom_segments(business).await.unwrap().len(), 1);

    store
        .record_custom_moves(business, slug.clone(), moving(true), now())
        .await
        .unwrap();
    let audit = erasure(business, member);
    store
        .erase_member(business, member, Code::from_entropy(fresh(), 8), audit)
        .await
        .unwrap();
    assert!(
        store
            .member_tags(business, member)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .custom_segment_members(business, slug)
            .await
            .unwrap()
            .is_empty(),
        "an erased member leaves their tags and segments"
    );
}

pub async fn the_outbox_leases_each_message_to_one_worker_and_keeps_its_status(store: Store) {
    use crate::Settled;
    use stammgast_core::member::{Channel, Consent, ConsentPurpose};

    let business = new_business(&store).await;
    let other = new_business(&store).await;
    let member = join(&store, business, "anna@example.com").await;
    let email = Consent {
        purpose: ConsentPurpose::Marketing(Channel::Email),
        text_version: "2026-01".into(),
        source: "conformance".into(),
    };
    for _ in 0..2 {
        store
            .change_consents(business, member, vec![email.clone()], vec![], now())
            .await
            .unwrap();
    }
    let due = store.due_messages(business, now(), 10).await.unwrap();
    assert_eq!(due.len(), 1, "one confirmation for one standing consent");
    assert!(
        store
            .due_messages(other, now(), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let id = due[0].id;
    let lease = now() + Duration::minutes(1);
    let (first, second) = tokio::join!(
        store.claim_message(business, id, now(), lease),
        store.claim_message(business, id, now(), lease),
    );
    assert!(
        first.unwrap() ^ second.unwrap(),
        "exactly one worker holds it"
    );
    assert!(
        store
            .due_messages(business, now(), 10)
            .await
            .unwrap()
            .is_empty(),
        "a leased message is not due"
    );
    assert!(!store.claim_message(other, id, now(), lease).await.unwrap());

    let retry_at = now() + Duration::minutes(2);
    let retry = Settled::Retry {
        at: retry_at,
        error: "451 try later".into(),
    };
    store
        .settle_message(business, id, retry, now())
        .await
        .unwrap();
    assert!(
        store
            .due_messages(business, now(), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let again = store.due_messages(business, retry_at, 10).await.unwrap();
    assert_eq!(
        (again[0].attempts, again[0].last_error.as_deref()),
        (1, Some("451 try later"))
    );

    assert!(
        store
            .claim_message(business, id, retry_at, retry_at + Duration::minutes(1))
            .await
            .unwrap()
    );
    let bounced = Settled::Bounced {
        address: "anna@example.com".into(),
        error: "550 no such user".into(),
    };
    store
        .settle_message(business, id, bounced, retry_at)
        .await
        .unwrap();
    let messages = store.member_messages(business, member).await.unwrap();
    assert_eq!(
        (messages[0].status.as_str(), messages[0].attempts),
        ("bounced", 2)
    );
    assert!(
        store
            .bounced(business, "anna@example.com".into())
            .await
            .unwrap()
    );
    assert!(
        !store
            .bounced(other, "anna@example.com".into())
            .await
            .unwrap()
    );
    assert!(
        store
            .due_messages(business, retry_at + Duration::days(1), 10)
            .await
            .unwrap()
            .is_empty()
    );
}
