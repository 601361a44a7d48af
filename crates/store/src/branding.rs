//! How a business presents itself (colour, call to action): one row per business.

use crate::sql::{Columns, text};
use crate::{Branding, Store, StoreError};
use chrono::{DateTime, Utc};
use stammgast_core::ids::BusinessId;

impl Store {
    pub async fn branding(&self, business: BusinessId) -> Result<Option<Branding>, StoreError> {
        self.with_connection(move |connection| {
            let rows = connection.query(
                "SELECT brand_color, call_to_action FROM business_profiles WHERE business_id = $1",
                &[text(business)],
            )?;
            rows.first()
                .map(|row| {
                    let columns = Columns::of(row);
                    Ok(Branding {
                        brand_color: columns.text(0)?.to_owned(),
                        call_to_action: columns.text(1)?.to_owned(),
                    })
                })
                .transpose()
        })
        .await
    }

    pub async fn save_branding(
        &self,
        business: BusinessId,
        branding: Branding,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.with_connection(move |connection| {
            connection
                .execute(
                    "INSERT INTO business_profiles (business_id, brand_color, call_to_action, updated_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (business_id) DO UPDATE SET \
                     brand_color = excluded.brand_color, call_to_action = excluded.call_to_action, \
                     updated_at = excluded.updated_at",
                    &[
                        text(business),
                        branding.brand_color.into(),
                        branding.call_to_action.into(),
                        now.into(),
                    ],
                )
                .map(|_| ())
        })
        .await
    }
}
