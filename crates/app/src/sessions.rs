//! Login sessions for the web faces: staff log in with email and password (argon2id,
//! throttled), members are signed in on their card when they join. A session is a cookie
//! holding a [`tokens`](crate::tokens) token; each carries a CSRF token for its forms.

use crate::keys::{Actor, Caller, Scope};
use crate::{App, AppError, fresh, tokens};
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use chrono::Duration;
use stammgast_core::ids::{BusinessId, MemberId, SessionId, StaffId};
use stammgast_core::member::{Email, StaffRole};
use stammgast_store::{NewSession, NewStaff, SessionKind, SessionRecord, StoreError};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration as StdDuration, Instant};

const PREFIX: &str = "ses_";
/// A shift and then some: staff log in again the next day.
const STAFF_SESSION_HOURS: i64 = 12;
/// The card stays signed in on the member's phone for a year.
const MEMBER_SESSION_DAYS: i64 = 365;
const PASSWORD_LENGTH_MIN: usize = 10;

/// A logged-in staff member.
#[derive(Clone, Debug)]
pub struct StaffSession {
    pub session_id: SessionId,
    pub caller: Caller,
    pub staff_id: StaffId,
    pub name: String,
    pub role: StaffRole,
    pub csrf_token: String,
}

/// A member signed in on their card.
#[derive(Clone, Debug)]
pub struct CardSession {
    pub session_id: SessionId,
    pub business_id: BusinessId,
    pub member_id: MemberId,
    pub csrf_token: String,
}

/// What a staff account is created with.
#[derive(Clone, Debug)]
pub struct NewStaffAccount {
    pub email: String,
    pub name: String,
    pub role: StaffRole,
    pub password: String,
}

fn scopes_of(role: StaffRole) -> Vec<String> {
    let mut scopes = vec![
        Scope::MembersRead,
        Scope::MembersWrite,
        Scope::EventsWrite,
        Scope::RewardsWrite,
    ];
    if role.may_manage() {
        scopes.extend([Scope::LedgerAdjust, Scope::ProgramWrite]);
    }
    scopes.iter().map(|scope| scope.name().to_owned()).collect()
}

impl App {
    pub async fn create_staff(
        &self,
        business: BusinessId,
        account: NewStaffAccount,
    ) -> Result<StaffId, AppError> {
        let email = Email::parse(&account.email).map_err(|e| AppError::invalid("email", e))?;
        let name = account.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 80 {
            return Err(AppError::invalid(
                "name",
                "give a name of 1 to 80 characters",
            ));
        }
        if account.password.chars().count() < PASSWORD_LENGTH_MIN {
            return Err(AppError::invalid(
                "password",
                format!("the password needs at least {PASSWORD_LENGTH_MIN} characters"),
            ));
        }
        let password_hash = hash_password(account.password).await?;
        let id = StaffId::from_uuid(fresh::id());
        let staff = NewStaff {
            business_id: business,
            id,
            email: email.to_string(),
            name,
            role: role_name(account.role).to_owned(),
            password_hash,
            created_at: self.now(),
        };
        match self.store.create_staff(staff).await {
            Err(StoreError::Conflict(_)) => Err(AppError::invalid(
                "email",
                "this email address already has a staff account",
            )),
            other => Ok(other.map(|()| id)?),
        }
    }

    /// Checks the password and opens a session: returns its token and the staff member's
    /// role. Wrong email and wrong password get the same answer; after repeated failures
    /// the email is locked for a while.
    pub async fn log_in(
        &self,
        email: &str,
        password: &str,
    ) -> Result<(String, StaffRole), AppError> {
        let email = email.trim().to_lowercase();
        self.login_throttle.check(&email)?;
        let staff = self.store.staff_by_email(email.clone()).await?;
        let verified = match &staff {
            Some(staff) => verify_password(password.to_owned(), staff.password_hash.clone()).await,
            // Spend the same time on unknown emails, so timing does not reveal accounts.
            None => {
                verify_password(password.to_owned(), DUMMY_HASH.to_owned()).await;
                false
            }
        };
        let Some(staff) = staff.filter(|_| verified) else {
            self.login_throttle.count(&email);
            return Err(AppError::Unauthenticated);
        };
        self.login_throttle.forget(&email);
        let role = parse_role(&staff.role).ok_or(AppError::Unauthenticated)?;
        let expires = Duration::hours(STAFF_SESSION_HOURS);
        let token = self
            .open_session(
                staff.business_id,
                SessionKind::Staff,
                staff.id.to_string(),
                expires,
            )
            .await?;
        Ok((token, role))
    }

    /// Signs a member in on their card (after joining, or by a magic link).
    pub async fn open_card_session(
        &self,
        business: BusinessId,
        member: MemberId,
    ) -> Result<String, AppError> {
        let expires = Duration::days(MEMBER_SESSION_DAYS);
        self.open_session(business, SessionKind::Member, member.to_string(), expires)
            .await
    }

    /// A one-time link token that signs the member in on whichever device opens it first.
    pub async fn card_link(
        &self,
        business: BusinessId,
        member: MemberId,
        valid_for: Duration,
    ) -> Result<String, AppError> {
        self.open_session(
            business,
            SessionKind::MemberLink,
            member.to_string(),
            valid_for,
        )
        .await
    }

    /// Spends a link token (it works once) and opens a card session in its place.
    pub async fn open_card_link(&self, link: &str) -> Result<String, AppError> {
        let record = self.session(link, SessionKind::MemberLink).await?;
        let member_id = MemberId::parse(&record.subject_id).ok_or(AppError::Unauthenticated)?;
        self.store
            .delete_session(record.business_id, record.id)
            .await?;
        self.open_card_session(record.business_id, member_id).await
    }

    pub(crate) async fn open_session(
        &self,
        business: BusinessId,
        kind: SessionKind,
        subject_id: String,
        lasts: Duration,
    ) -> Result<String, AppError> {
        let minted = tokens::mint(PREFIX);
        let now = self.now();
        self.store
            .create_session(NewSession {
                business_id: business,
                id: SessionId::from_uuid(minted.id),
                secret_hash: minted.secret_hash,
                kind,
                subject_id,
                csrf_token: fresh::secret(),
                created_at: now,
                expires_at: now + lasts,
            })
            .await?;
        Ok(minted.token)
    }

    pub(crate) async fn session(
        &self,
        token: &str,
        kind: SessionKind,
    ) -> Result<SessionRecord, AppError> {
        let (id, secret) = tokens::split(PREFIX, token).ok_or(AppError::Unauthenticated)?;
        let record = self
            .store
            .session(SessionId::from_uuid(id), self.now())
            .await?
            .filter(|record| record.kind == kind && tokens::matches(secret, &record.secret_hash))
            .ok_or(AppError::Unauthenticated)?;
        Ok(record)
    }

    pub async fn staff_session(&self, token: &str) -> Result<StaffSession, AppError> {
        let record = self.session(token, SessionKind::Staff).await?;
        let staff_id = StaffId::parse(&record.subject_id).ok_or(AppError::Unauthenticated)?;
        let staff = self
            .store
            .staff(record.business_id, staff_id)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        let role = parse_role(&staff.role).ok_or(AppError::Unauthenticated)?;
        Ok(StaffSession {
            session_id: record.id,
            caller: Caller {
                business_id: record.business_id,
                actor: Actor::Staff(staff_id),
                scopes: scopes_of(role),
            },
            staff_id,
            name: staff.name,
            role,
            csrf_token: record.csrf_token,
        })
    }

    pub async fn card_session(&self, token: &str) -> Result<CardSession, AppError> {
        let record = self.session(token, SessionKind::Member).await?;
        let member_id = MemberId::parse(&record.subject_id).ok_or(AppError::Unauthenticated)?;
        Ok(CardSession {
            session_id: record.id,
            business_id: record.business_id,
            member_id,
            csrf_token: record.csrf_token,
        })
    }

    pub async fn log_out(&self, business: BusinessId, session: SessionId) -> Result<(), AppError> {
        Ok(self.store.delete_session(business, session).await?)
    }
}

/// A password for a new account, for the owner to change: 26 random Crockford characters.
pub fn generate_password() -> String {
    fresh::secret()
}

pub fn role_name(role: StaffRole) -> &'static str {
    match role {
        StaffRole::Owner => "owner",
        StaffRole::Manager => "manager",
        StaffRole::Cashier => "cashier",
    }
}

/// A role by its name (`owner`, `manager`, `cashier`).
pub fn parse_role(text: &str) -> Option<StaffRole> {
    [StaffRole::Owner, StaffRole::Manager, StaffRole::Cashier]
        .into_iter()
        .find(|role| role_name(*role) == text)
}

/// A valid argon2id hash of a password nobody knows, verified for unknown emails.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c3RhbW1nYXN0ZHVtbXk$3mVg5r0mgCfC2eA9S2HcVQ2c7o2bE1wC4k5Yk3Jr0zQ";

/// Argon2 takes tens of milliseconds of CPU on purpose: off the async threads.
async fn hash_password(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|e| StoreError::Other(format!("hashing a password failed: {e}")))
    })
    .await
    .map_err(|e| StoreError::Other(format!("hashing a password failed: {e}")))?
    .map_err(AppError::from)
}

async fn verify_password(password: String, stored: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&stored).is_ok_and(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        })
    })
    .await
    .unwrap_or(false)
}

/// Counts attempts per key (an email address) within a window, in this process, and
/// refuses once there were too many: failed logins, sign-in links requested.
pub struct Throttle {
    attempts_max: u32,
    window: StdDuration,
    attempts: Mutex<HashMap<String, (u32, Instant)>>,
}

/// Keys tracked at most; expired ones are dropped when it is full.
const THROTTLE_KEYS_MAX: usize = 10_000;

impl Throttle {
    pub fn new(attempts_max: u32, window: StdDuration) -> Self {
        Self {
            attempts_max,
            window,
            attempts: Mutex::default(),
        }
    }

    /// Failed logins: five per email in fifteen minutes.
    pub fn for_logins() -> Self {
        Self::new(5, StdDuration::from_secs(15 * 60))
    }

    /// Sign-in links: three per email in fifteen minutes (each one is a mail).
    pub fn for_links() -> Self {
        Self::new(3, StdDuration::from_secs(15 * 60))
    }

    /// Joins on a shop's page: 120 per business in ten minutes, which a queue at the
    /// counter never reaches and a script filling the program with fake members soon does.
    pub fn for_joins() -> Self {
        Self::new(120, StdDuration::from_secs(10 * 60))
    }

    pub fn check(&self, key: &str) -> Result<(), AppError> {
        let Ok(attempts) = self.attempts.lock() else {
            return Ok(());
        };
        match attempts.get(key) {
            Some((count, since)) if *count >= self.attempts_max => {
                let elapsed = since.elapsed();
                if elapsed < self.window {
                    let retry_after_seconds = (self.window - elapsed).as_secs().max(1);
                    return Err(AppError::RateLimited {
                        retry_after_seconds,
                    });
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    pub fn count(&self, key: &str) {
        if let Ok(mut attempts) = self.attempts.lock() {
            if attempts.len() >= THROTTLE_KEYS_MAX {
                let window = self.window;
                attempts.retain(|_, (_, since)| since.elapsed() < window);
            }
            let entry = attempts
                .entry(key.to_owned())
                .or_insert((0, Instant::now()));
            if entry.1.elapsed() >= self.window {
                *entry = (0, Instant::now());
            }
            entry.0 += 1;
        }
    }

    pub fn forget(&self, key: &str) {
        if let Ok(mut attempts) = self.attempts.lock() {
            attempts.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dummy_hash_is_a_valid_argon2_hash() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }

    #[test]
    fn an_email_is_locked_after_repeated_failures_and_unlocked_by_success() {
        let throttle = Throttle::for_logins();
        for _ in 0..5 {
            assert!(throttle.check("a@b.de").is_ok());
            throttle.count("a@b.de");
        }
        assert!(matches!(
            throttle.check("a@b.de"),
            Err(AppError::RateLimited { .. })
        ));
        assert!(throttle.check("other@b.de").is_ok());
        throttle.forget("a@b.de");
        assert!(throttle.check("a@b.de").is_ok());
    }

    #[test]
    fn joins_are_limited_per_business_not_across_businesses() {
        let throttle = Throttle::for_joins();
        for _ in 0..120 {
            assert!(throttle.check("shop-a").is_ok());
            throttle.count("shop-a");
        }
        assert!(throttle.check("shop-a").is_err());
        assert!(throttle.check("shop-b").is_ok());
    }

    #[test]
    fn only_managers_and_owners_may_adjust_balances() {
        let adjust = Scope::LedgerAdjust.name().to_owned();
        assert!(!scopes_of(StaffRole::Cashier).contains(&adjust));
        assert!(scopes_of(StaffRole::Owner).contains(&adjust));
    }
}
