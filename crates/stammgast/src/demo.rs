//! `stammgast demo`: a fresh database with "Café Morgenrot" and 18 months of simulated
//! customers, replayed day by day through the real use cases, then served.

use crate::config::Settings;
use crate::history::{self, Customer, MENU};
use crate::{database, serve};
use chrono::{DateTime, Duration, Utc};
use stammgast_app::{
    App, Caller, Clock, ClockHand, JoinMember, Mail, Mailer, NewEvent, NewEventKind,
    NewStaffAccount, Sending,
};
use stammgast_core::batch::Outcome;
use stammgast_core::event::Item;
use stammgast_core::ids::MemberId;
use stammgast_core::member::{Channel, Consent, ConsentPurpose, StaffRole};
use stammgast_core::money::{Cents, Currency};
use std::collections::BTreeMap;
use std::sync::Arc;

const DEMO_MONTHS: i64 = 18;
/// How long the printed card link works.
const DEMO_LINK_DAYS: i64 = 30;
/// The demo's staff: a local demo on the loopback address, so fixed passwords are fine.
const DEMO_STAFF: [(&str, &str, StaffRole, &str); 2] = [
    (
        "inhaberin@morgenrot.example",
        "Lena Morgenrot",
        StaffRole::Owner,
        "morgenrot-inhaberin",
    ),
    (
        "kasse@morgenrot.example",
        "Tom Kasse",
        StaffRole::Cashier,
        "morgenrot-kasse",
    ),
];

pub async fn demo(settings: Settings, customers: usize) -> anyhow::Result<()> {
    if let Some(path) = settings.database.strip_prefix("sqlite://") {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{path}{suffix}"));
        }
    }
    let store = database::open(&settings.database).await?;
    let now = Utc::now();
    let start = now - Duration::days(DEMO_MONTHS * 30);
    let hand = ClockHand::at(start);
    let app = App::new(store.clone(), Clock::manual(&hand)).with_mailer(Arc::new(PastMail));
    let created = app.create_business("Café Morgenrot", None).await?;
    let caller = app.authenticate(&created.api_key).await?;
    eprintln!("simulating {customers} customers over {DEMO_MONTHS} months …");
    let simulated = history::simulate(customers, start, now, 2026);
    let count = |habit| simulated.iter().filter(|c| c.habit == habit).count();
    eprintln!(
        "{} regulars, {} occasional guests, {} who stop coming",
        count(history::Habit::Regular),
        count(history::Habit::Occasional),
        count(history::Habit::Churner)
    );
    // The owner started the win-back automation on the first day.
    let win_back = app.journey_from_template(&caller, "win_back").await?;
    app.set_journey_active(&caller, win_back.slug.as_str(), true)
        .await?;
    let (recorded, members) = replay(&app, &hand, &caller, &simulated, start, now).await?;
    eprintln!("recorded {recorded} visits");
    segment(&app, &caller, &simulated, &members).await?;
    let live = settings.app(store).with_mailer(settings.mailer()?);
    for (email, name, role, password) in DEMO_STAFF {
        let account = NewStaffAccount {
            email: email.into(),
            name: name.into(),
            role,
            password: password.into(),
        };
        live.create_staff(created.business_id, account).await?;
    }
    // The card of the most loyal simulated customer, to look at as they would.
    let regular = simulated
        .iter()
        .zip(&members)
        .filter_map(|(customer, member)| Some((customer.visits.len(), (*member)?)))
        .max_by_key(|(visits, _)| *visits)
        .map(|(_, member)| member);
    let base = format!("http://{}", settings.listen);
    println!("Stammgast demo: Café Morgenrot");
    println!(
        "  counter (cashier): {base}/login  as {} / {}",
        DEMO_STAFF[1].0, DEMO_STAFF[1].3
    );
    println!(
        "  back office (owner): {base}/login  as {} / {}",
        DEMO_STAFF[0].0, DEMO_STAFF[0].3
    );
    println!(
        "  join page (the shop's QR code): {base}/join/{}",
        created.business_id
    );
    if let Some(member) = regular {
        let link = live
            .card_link(created.business_id, member, Duration::days(DEMO_LINK_DAYS))
            .await?;
        println!("  a regular's card (one-time link): {base}/card/open/{link}");
    }
    println!("  API key: {}", created.api_key);
    println!(
        "  try: curl -H 'Authorization: Bearer {}' {base}/api/v1/members",
        created.api_key
    );
    println!("  API docs: {base}/api/v1/openapi.json");
    serve::serve_app(live, &settings).await
}

/// Replays the simulation one day at a time: that day's sign-ups, then its visits.
async fn replay(
    app: &App,
    hand: &ClockHand,
    caller: &Caller,
    customers: &[Customer],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> anyhow::Result<(usize, Vec<Option<MemberId>>)> {
    let mut joins: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    let mut visits: BTreeMap<i64, Vec<(usize, usize)>> = BTreeMap::new();
    let day_of = |at: DateTime<Utc>| (at - start).num_days();
    for (index, customer) in customers.iter().enumerate() {
        joins
            .entry(day_of(customer.joined_at))
            .or_default()
            .push(index);
        for (visit, at) in customer.visits.iter().map(|v| v.at).enumerate() {
            visits.entry(day_of(at)).or_default().push((index, visit));
        }
    }
    let mut members: Vec<Option<MemberId>> = vec![None; customers.len()];
    let mut recorded = 0;
    for day in 0..=(end - start).num_days() {
        for &index in joins.get(&day).into_iter().flatten() {
            let customer = &customers[index];
            hand.set(customer.joined_at);
            // Two in three agreed to news by email when they joined.
            let consents = (index % 3 != 0)
                .then(|| Consent {
                    purpose: ConsentPurpose::Marketing(Channel::Email),
                    text_version: "demo".into(),
                    source: "counter".into(),
                })
                .into_iter()
                .collect();
            let join = JoinMember {
                first_name: customer.first_name.into(),
                email: Some(customer.email.clone()),
                consents,
                ..JoinMember::default()
            };
            if let Outcome::Joined { member_id, .. } = app.join_member(caller, None, join).await? {
                members[index] = Some(member_id);
                // They confirm from the mail the same day.
                let purpose = ConsentPurpose::Marketing(Channel::Email);
                app.store()
                    .confirm_consent(caller.business_id, member_id, purpose, customer.joined_at)
                    .await?;
            }
        }
        hand.set((start + Duration::days(day + 1)).min(end));
        let events: Vec<_> = visits
            .get(&day)
            .into_iter()
            .flatten()
            .filter_map(|&(index, visit)| {
                let member_id = members[index]?;
                Some((None, purchase(member_id, &customers[index].visits[visit])))
            })
            .collect();
        recorded += app
            .record_events(caller, events)
            .await?
            .iter()
            .filter(|d| d.is_ok())
            .count();
        let visitors: Vec<usize> = visits
            .get(&day)
            .into_iter()
            .flatten()
            .map(|&(index, _)| index)
            .collect();
        engage(app, caller, customers, &members, &visitors, day).await;
        // The day's lapses get the win-back mail; what the last day queued goes out now.
        app.run_journeys(caller.business_id).await?;
        app.deliver_messages(caller.business_id).await?;
    }
    Ok((recorded, members))
}

/// The mail of the simulated past: it reached the guests back then.
struct PastMail;

impl Mailer for PastMail {
    fn send(&self, _mail: Mail) -> Sending<'_> {
        Box::pin(async { Ok(()) })
    }
}

/// The regulars' table gets a tag, and the owner has three segments of their own.
async fn segment(
    app: &App,
    caller: &Caller,
    customers: &[Customer],
    members: &[Option<MemberId>],
) -> anyhow::Result<()> {
    let mut by_visits: Vec<(usize, MemberId)> = customers
        .iter()
        .zip(members)
        .filter_map(|(customer, member)| Some((customer.visits.len(), (*member)?)))
        .collect();
    by_visits.sort_unstable_by_key(|(visits, _)| std::cmp::Reverse(*visits));
    for (_, member) in by_visits.iter().take(8) {
        app.tag_member(caller, *member, "Stammtisch").await?;
    }
    for (name, filter) in [
        ("Kuchenliebhaber", "bought cake and visits >= 30"),
        (
            "Lange nicht gesehen, per E-Mail erreichbar",
            "days_since_last_visit >= 45 and consent email",
        ),
        ("Stammtisch", "tag stammtisch"),
    ] {
        app.save_custom_segment(caller, None, name, filter).await?;
    }
    Ok(())
}

/// What some of the day's guests do besides buying: one in 23 treats themselves to a
/// reward (when their points reach), one in 17 answers the NPS survey, regulars kindest.
async fn engage(
    app: &App,
    caller: &Caller,
    customers: &[Customer],
    members: &[Option<MemberId>],
    visitors: &[usize],
    day: i64,
) {
    for &index in visitors {
        let Some(member_id) = members[index] else {
            continue;
        };
        let turn = index as i64 * 7 + day;
        if turn % 23 == 0 {
            let reward = if turn % 2 == 0 { "cake" } else { "five-off" };
            if let Ok(Outcome::Coupon(coupon)) =
                app.redeem_reward(caller, None, member_id, reward).await
            {
                let _ = app.use_coupon(caller, None, coupon.code.as_str()).await;
            }
        }
        if (index as i64 * 13 + day) % 17 == 0 {
            let score = match customers[index].habit {
                history::Habit::Regular => 9 + (index % 2) as u8,
                history::Habit::Occasional => 6 + (index % 4) as u8,
                history::Habit::Churner => 2 + (index % 6) as u8,
            };
            // Every fifth answer comes with a word or two, as they do.
            let comment = match (index % 5, score) {
                (0, 9..) => "Bester Kuchen der Stadt, und immer freundlich.",
                (0, 7..) => "Gemütlich, nur samstags etwas voll.",
                (0, _) => "Der Cappuccino war lauwarm.",
                _ => "",
            };
            let _ = app
                .record_survey_answer(caller, member_id, score, comment, None)
                .await;
        }
    }
}

pub fn purchase(member_id: MemberId, visit: &history::Visit) -> NewEvent {
    let items = visit
        .basket
        .iter()
        .map(|&(product, quantity)| Item {
            sku: Some(MENU[product].sku.into()),
            category: Some(MENU[product].category.into()),
            quantity,
            amount: Cents::new(MENU[product].price_cents * i64::from(quantity)).ok(),
        })
        .collect();
    NewEvent {
        member_id,
        kind: NewEventKind::Purchase {
            amount: Cents::new(visit.amount_cents()).unwrap_or(Cents::ZERO),
            currency: Currency::EUR,
            items,
        },
        location_id: None,
        occurred_at: Some(visit.at),
    }
}
