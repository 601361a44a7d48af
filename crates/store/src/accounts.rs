//! Who may use the web faces: staff accounts, sessions (staff and members), and the
//! consents members gave. Plain rows written straight to the database, not through the
//! ledger writer: none of them moves a balance.

use crate::batch_tx::write_audit;
use crate::outbox::queue_confirmation;
use crate::reads::in_transaction;
use crate::sql::{Columns, text};
use crate::{
    ConsentRecord, NewSession, NewStaff, SessionKind, SessionRecord, StaffRecord, Store, StoreError,
};
use chrono::{DateTime, Utc};
use stammgast_core::batch::AuditEntry;
use stammgast_core::ids::{BusinessId, Code, MemberId, SessionId, StaffId};
use stammgast_core::member::{Consent, ConsentPurpose, Language};
use stammgast_core::outbox::needs_confirmation;

const STAFF_COLUMNS: &str = "business_id, id, email, name, role, password_hash, created_at";

impl Store {
    /// Adds a staff account; an email already used anywhere in the instance is a conflict.
    pub async fn create_staff(&self, staff: NewStaff) -> Result<(), StoreError> {
        self.with_connection(move |connection| {
            connection
                .execute(
                    &format!(
                        "INSERT INTO staff ({STAFF_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
                    ),
                    &[
                        text(staff.business_id),
                        text(staff.id),
                        staff.email.into(),
                        staff.name.into(),
                        staff.role.into(),
                        staff.password_hash.into(),
                        staff.created_at.into(),
                    ],
                )
                .map(|_| ())
        })
        .await
    }

    /// A business's staff, by name.
    pub async fn staff_of(&self, business: BusinessId) -> Result<Vec<StaffRecord>, StoreError> {
        self.with_connection(move |connection| {
            let sql = format!(
                "SELECT {STAFF_COLUMNS} FROM staff WHERE business_id = $1 ORDER BY name, email"
            );
            connection
                .query(&sql, &[text(business)])?
                .iter()
                .map(staff_record)
                .collect()
        })
        .await
    }

    /// Removes a staff account and ends its sessions.
    pub async fn delete_staff(&self, business: BusinessId, id: StaffId) -> Result<(), StoreError> {
        self.with_connection(move |connection| {
            in_transaction(connection, |connection| {
                let deleted = connection.execute(
                    "DELETE FROM staff WHERE business_id = $1 AND id = $2",
                    &[text(business), text(id)],
                )?;
                if deleted == 0 {
                    return Err(StoreError::NotFound);
                }
                connection.execute(
                    "DELETE FROM sessions WHERE business_id = $1 AND kind = 'staff' AND subject_id = $2",
                    &[text(business), text(id)],
                )?;
                Ok(())
            })
        })
        .await
    }

    pub async fn staff_by_email(&self, email: String) -> Result<Option<StaffRecord>, StoreError> {
        self.find_staff("email = $1", vec![email.into()]).await
    }

    pub async fn staff(
        &self,
        business: BusinessId,
        id: StaffId,
    ) -> Result<Option<StaffRecord>, StoreError> {
        self.find_staff(
            "business_id = $1 AND id = $2",
            vec![text(business), text(id)],
        )
        .await
    }

    async fn find_staff(
        &self,
        condition: &'static str,
        params: Vec<crate::sql::Value>,
    ) -> Result<Option<StaffRecord>, StoreError> {
        self.with_connection(move |connection| {
            let sql = format!("SELECT {STAFF_COLUMNS} FROM staff WHERE {condition}");
            let rows = connection.query(&sql, &params)?;
            rows.first().map(staff_record).transpose()
        })
        .await
    }

    pub async fn create_session(&self, session: NewSession) -> Result<(), StoreError> {
        self.with_connection(move |connection| {
            connection
                .execute(
                    "INSERT INTO sessions (business_id, id, secret_hash, kind, subject_id, \
                 csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    &[
                        text(session.business_id),
                        text(session.id),
                        session.secret_hash.into(),
                        session.kind.as_str().into(),
                        session.subject_id.into(),
                        session.csrf_token.into(),
                        session.created_at.into(),
                        session.expires_at.into(),
                    ],
                )
                .map(|_| ())
        })
        .await
    }

    /// The session with this id if it has not expired at `now`, whichever business it
    /// belongs to (the caller checks the secret before trusting it).
    pub async fn session(
        &self,
        id: SessionId,
        now: DateTime<Utc>,
    ) -> Result<Option<SessionRecord>, StoreError> {
        self.with_connection(move |connection| {
            let rows = connection.query(
                "SELECT business_id, secret_hash, kind, subject_id, csrf_token FROM sessions \
                 WHERE id = $1 AND expires_at > $2",
                &[text(id), now.into()],
            )?;
            rows.first()
                .map(|row| {
                    let columns = Columns::of(row);
                    Ok(SessionRecord {
                        business_id: columns.parsed(0, BusinessId::parse)?,
                        id,
                        secret_hash: columns.text(1)?.to_owned(),
                        kind: columns.parsed(2, SessionKind::parse)?,
                        subject_id: columns.text(3)?.to_owned(),
                        csrf_token: columns.text(4)?.to_owned(),
                    })
                })
                .transpose()
        })
        .await
    }

    pub async fn delete_session(
        &self,
        business: BusinessId,
        id: SessionId,
    ) -> Result<(), StoreError> {
        self.with_connection(move |connection| {
            connection
                .execute(
                    "DELETE FROM sessions WHERE business_id = $1 AND id = $2",
                    &[text(business), text(id)],
                )
                .map(|_| ())
        })
        .await
    }

    /// Erases a member's personal data (DSGVO Art. 17) and signs them out everywhere, in
    /// one transaction with its audit entry. The ledger stays, keyed by the member's random
    /// id; the printed code is replaced so an old card no longer finds the account.
    pub async fn erase_member(
        &self,
        business: BusinessId,
        member: MemberId,
        new_code: Code,
        audit: AuditEntry,
    ) -> Result<(), StoreError> {
        self.with_connection(move |connection| {
            in_transaction(connection, |connection| {
                let erased = connection.execute(
                    "UPDATE members SET first_name = '', email = NULL, phone = NULL, \
                     birthday = NULL, code = $3, erased_at = $4 \
                     WHERE business_id = $1 AND id = $2 AND erased_at IS NULL",
                    &[
                        text(business),
                        text(member),
                        text(&new_code),
                        audit.at.into(),
                    ],
                )?;
                if erased == 0 {
                    return Err(StoreError::NotFound);
                }
                // Every link and session of the member: card, sign-in, mailed links (a
                // survey's subject is the member followed by the mail).
                connection.execute(
                    "DELETE FROM sessions WHERE business_id = $1 AND kind <> 'staff' \
                     AND (subject_id = $2 OR subject_id LIKE $3)",
                    &[text(business), text(member), format!("{member}/%").into()],
                )?;
                // Tags are what staff noted about the person; custom segments were built
                // from the personal data just erased.
                for table in ["member_tags", "custom_segment_members"] {
                    connection.execute(
                        &format!("DELETE FROM {table} WHERE business_id = $1 AND member_id = $2"),
                        &[text(business), text(member)],
                    )?;
                }
                // What they wrote and the copies of what they were sent; the scores stay
                // for the NPS, the delivery log for its counts.
                connection.execute(
                    "UPDATE survey_answers SET comment = '', publish_consent_at = NULL \
                     WHERE business_id = $1 AND member_id = $2",
                    &[text(business), text(member)],
                )?;
                connection.execute(
                    "UPDATE outbox SET subject = NULL, body = NULL \
                     WHERE business_id = $1 AND member_id = $2",
                    &[text(business), text(member)],
                )?;
                write_audit(connection, std::slice::from_ref(&audit))
            })
        })
        .await
    }

    /// A member's preferred language for pages and messages.
    pub async fn set_member_language(
        &self,
        business: BusinessId,
        member: MemberId,
        language: Language,
    ) -> Result<(), StoreError> {
        self.with_connection(move |connection| {
            connection
                .execute(
                    "UPDATE members SET language = $3 WHERE business_id = $1 AND id = $2",
                    &[text(business), text(member), language.as_str().into()],
                )
                .map(|_| ())
        })
        .await
    }

    /// Records consents given and withdraws the ones taken back, in one transaction. A
    /// consent already in force is not given again; a withdrawn one stays as proof.
    pub async fn change_consents(
        &self,
        business: BusinessId,
        member: MemberId,
        give: Vec<Consent>,
        withdraw: Vec<ConsentPurpose>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.with_connection(move |connection| {
            in_transaction(connection, |connection| {
                for consent in &give {
                    let (purpose, channel) = consent.purpose.as_parts();
                    let confirmation = needs_confirmation(consent.purpose);
                    let given = connection.execute(
                        "INSERT INTO consents (business_id, member_id, purpose, channel, given_at, \
                         text_version, source, confirmed_at) SELECT $1, $2, $3, $4, $5, $6, $7, $8 \
                         WHERE NOT EXISTS (SELECT 1 FROM consents WHERE business_id = $1 \
                         AND member_id = $2 AND purpose = $3 AND channel = $4 AND withdrawn_at IS NULL)",
                        &[
                            text(business),
                            text(member),
                            purpose.into(),
                            channel.into(),
                            at.into(),
                            consent.text_version.as_str().into(),
                            consent.source.as_str().into(),
                            (!confirmation).then_some(at).into(),
                        ],
                    )?;
                    if given == 1 && confirmation {
                        queue_confirmation(connection, business, member, at)?;
                    }
                }
                for purpose in &withdraw {
                    let (purpose, channel) = purpose.as_parts();
                    connection.execute(
                        "UPDATE consents SET withdrawn_at = $5 WHERE business_id = $1 \
                         AND member_id = $2 AND purpose = $3 AND channel = $4 AND withdrawn_at IS NULL",
                        &[text(business), text(member), purpose.into(), channel.into(), at.into()],
                    )?;
                }
                Ok(())
            })
        })
        .await
    }

    /// The consents a member gave, oldest first, withdrawn ones included (they are proof).
    pub async fn member_consents(
        &self,
        business: BusinessId,
        member: MemberId,
    ) -> Result<Vec<ConsentRecord>, StoreError> {
        self.with_connection(move |connection| {
            let rows = connection.query(
                "SELECT purpose, channel, given_at, text_version, source, withdrawn_at, confirmed_at \
                 FROM consents WHERE business_id = $1 AND member_id = $2 \
                 ORDER BY given_at, purpose, channel",
                &[text(business), text(member)],
            )?;
            rows.iter()
                .map(|row| {
                    let columns = Columns::of(row);
                    Ok(ConsentRecord {
                        purpose: columns.text(0)?.to_owned(),
                        channel: columns.text(1)?.to_owned(),
                        given_at: columns.time(2)?,
                        text_version: columns.text(3)?.to_owned(),
                        source: columns.text(4)?.to_owned(),
                        withdrawn_at: columns.opt_time(5)?,
                        confirmed_at: columns.opt_time(6)?,
                    })
                })
                .collect()
        })
        .await
    }
}

fn staff_record(row: &crate::sql::Row) -> Result<StaffRecord, StoreError> {
    let columns = Columns::of(row);
    Ok(StaffRecord {
        business_id: columns.parsed(0, BusinessId::parse)?,
        id: columns.parsed(1, StaffId::parse)?,
        email: columns.text(2)?.to_owned(),
        name: columns.text(3)?.to_owned(),
        role: columns.text(4)?.to_owned(),
        password_hash: columns.text(5)?.to_owned(),
    })
}
