//! A shop's own settings (colour, call to action, the cashiers' void window): one row per
//! business.

use crate::reads::in_transaction;
use crate::sql::{Columns, Connection, text};
use crate::{LegalTexts, Logo, ShopSettings, Store, StoreError};
use chrono::{DateTime, Utc};
use stammgast_core::ids::BusinessId;

impl Store {
    pub async fn shop_settings(
        &self,
        business: BusinessId,
    ) -> Result<Option<ShopSettings>, StoreError> {
        self.with_connection(move |connection| {
            let rows = connection.query(
                "SELECT brand_color, call_to_action, void_window_minutes, imprint, \
                 privacy_notice, terms, logo_version FROM shop_settings WHERE business_id = $1",
                &[text(business)],
            )?;
            rows.first()
                .map(|row| {
                    let columns = Columns::of(row);
                    Ok(ShopSettings {
                        brand_color: columns.text(0)?.to_owned(),
                        call_to_action: columns.text(1)?.to_owned(),
                        void_window_minutes: columns.int(2)?,
                        legal: LegalTexts {
                            imprint: columns.text(3)?.to_owned(),
                            privacy_notice: columns.text(4)?.to_owned(),
                            terms: columns.text(5)?.to_owned(),
                        },
                        logo_version: columns.int(6)?,
                    })
                })
                .transpose()
        })
        .await
    }

    pub async fn save_shop_settings(
        &self,
        business: BusinessId,
        settings: ShopSettings,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.with_connection(move |connection| save(connection, business, settings, now))
            .await
    }
}

fn save(
    connection: &mut dyn Connection,
    business: BusinessId,
    settings: ShopSettings,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    connection
        .execute(
            "INSERT INTO shop_settings (business_id, brand_color, call_to_action, \
                 void_window_minutes, imprint, privacy_notice, terms, logo_version, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (business_id) DO UPDATE SET brand_color = excluded.brand_color, \
                 call_to_action = excluded.call_to_action, \
                 void_window_minutes = excluded.void_window_minutes, \
                 imprint = excluded.imprint, privacy_notice = excluded.privacy_notice, \
                 terms = excluded.terms, logo_version = excluded.logo_version, \
                 updated_at = excluded.updated_at",
            &[
                text(business),
                settings.brand_color.into(),
                settings.call_to_action.into(),
                settings.void_window_minutes.into(),
                settings.legal.imprint.into(),
                settings.legal.privacy_notice.into(),
                settings.legal.terms.into(),
                settings.logo_version.into(),
                now.into(),
            ],
        )
        .map(|_| ())
}

impl Store {
    /// Saves the shop's logo and its settings (with the logo's new version) together.
    pub async fn save_logo(
        &self,
        business: BusinessId,
        logo: Logo,
        settings: ShopSettings,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.with_connection(move |connection| {
            in_transaction(connection, |connection| {
                connection.execute(
                    "INSERT INTO shop_logos (business_id, content_type, data, updated_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (business_id) DO UPDATE SET \
                     content_type = excluded.content_type, data = excluded.data, \
                     updated_at = excluded.updated_at",
                    &[
                        text(business),
                        logo.content_type.into(),
                        logo.base64.into(),
                        now.into(),
                    ],
                )?;
                save(connection, business, settings, now)
            })
        })
        .await
    }

    pub async fn logo(&self, business: BusinessId) -> Result<Option<Logo>, StoreError> {
        self.with_connection(move |connection| {
            let rows = connection.query(
                "SELECT content_type, data FROM shop_logos WHERE business_id = $1",
                &[text(business)],
            )?;
            rows.first()
                .map(|row| {
                    let columns = Columns::of(row);
                    Ok(Logo {
                        content_type: columns.text(0)?.to_owned(),
                        base64: columns.text(1)?.to_owned(),
                    })
                })
                .transpose()
        })
        .await
    }
}
