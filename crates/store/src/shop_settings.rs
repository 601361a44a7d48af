//! A shop's own settings (colour, call to action, the cashiers' void window): one row per
//! business.

use crate::sql::{Columns, text};
use crate::{LegalTexts, ShopSettings, Store, StoreError};
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
                 privacy_notice, terms FROM shop_settings WHERE business_id = $1",
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
        self.with_connection(move |connection| {
            connection
                .execute(
                    "INSERT INTO shop_settings (business_id, brand_color, call_to_action, \
                     void_window_minutes, imprint, privacy_notice, terms, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                     ON CONFLICT (business_id) DO UPDATE SET brand_color = excluded.brand_color, \
                     call_to_action = excluded.call_to_action, \
                     void_window_minutes = excluded.void_window_minutes, \
                     imprint = excluded.imprint, privacy_notice = excluded.privacy_notice, \
                     terms = excluded.terms, updated_at = excluded.updated_at",
                    &[
                        text(business),
                        settings.brand_color.into(),
                        settings.call_to_action.into(),
                        settings.void_window_minutes.into(),
                        settings.legal.imprint.into(),
                        settings.legal.privacy_notice.into(),
                        settings.legal.terms.into(),
                        now.into(),
                    ],
                )
                .map(|_| ())
        })
        .await
    }
}
