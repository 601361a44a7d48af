//! A business's locations (branches).

use crate::sql::{Columns, text};
use crate::{LocationRecord, Store, StoreError};
use chrono::{DateTime, Utc};
use stammgast_core::ids::{BusinessId, LocationId};

impl Store {
    pub async fn create_location(
        &self,
        business: BusinessId,
        location: LocationRecord,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.with_connection(move |connection| {
            connection
                .execute(
                    "INSERT INTO locations (business_id, id, name, address, created_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                    &[
                        text(business),
                        text(location.id),
                        location.name.into(),
                        location.address.into(),
                        now.into(),
                    ],
                )
                .map(|_| ())
        })
        .await
    }

    /// A business's locations in the order they were added.
    pub async fn locations(&self, business: BusinessId) -> Result<Vec<LocationRecord>, StoreError> {
        self.with_connection(move |connection| {
            let rows = connection.query(
                "SELECT id, name, address FROM locations WHERE business_id = $1 ORDER BY created_at, id",
                &[text(business)],
            )?;
            rows.iter()
                .map(|row| {
                    let columns = Columns::of(row);
                    Ok(LocationRecord {
                        id: columns.parsed(0, LocationId::parse)?,
                        name: columns.text(1)?.to_owned(),
                        address: columns.text(2)?.to_owned(),
                    })
                })
                .collect()
        })
        .await
    }
}
