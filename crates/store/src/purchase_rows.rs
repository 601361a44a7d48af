//! What bulk ingestion wrote for purchases, as rows: the events and their ledger transfers,
//! read back and appended again to another database. For the benchmark's bare insert, which
//! measures what those rows alone cost the database, without the rules, reads and
//! aggregates that produced them.

use crate::StoreError;
use crate::codec::{EVENT_COLUMNS, TRANSFER_COLUMNS};
use crate::sql::{Connection, Row, insert_rows};

pub struct PurchaseRows {
    pub events: Vec<Row>,
    pub transfers: Vec<Row>,
}

impl PurchaseRows {
    /// Every purchase's event row and the transfer rows tied to it, each in the order they
    /// were written (ids are time-ordered). Sign-ups and their bonuses are left out.
    pub fn read(connection: &mut dyn Connection) -> Result<Self, StoreError> {
        let events = connection.query(
            &format!(
                "SELECT {} FROM events WHERE type = 'purchase' ORDER BY id",
                EVENT_COLUMNS.join(", ")
            ),
            &[],
        )?;
        let transfers = connection.query(
            &format!(
                "SELECT {} FROM transfers t JOIN events e \
                 ON e.business_id = t.business_id AND e.id = t.event_id \
                 WHERE e.type = 'purchase' ORDER BY t.id",
                TRANSFER_COLUMNS
                    .map(|column| format!("t.{column}"))
                    .join(", ")
            ),
            &[],
        )?;
        Ok(Self { events, transfers })
    }

    pub fn len(&self) -> usize {
        self.events.len() + self.transfers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends the rows through the store's own bulk insert, inside the caller's
    /// transaction.
    pub fn append(self, connection: &mut dyn Connection) -> Result<(), StoreError> {
        insert_rows(connection, "events", &EVENT_COLUMNS, "", self.events)?;
        insert_rows(
            connection,
            "transfers",
            &TRANSFER_COLUMNS,
            "",
            self.transfers,
        )
    }
}
