//! A business's locations: added in the back office, chosen per device at the counter, and
//! written on the purchases booked there.

use crate::keys::{Caller, Scope};
use crate::{App, AppError, fresh};
use stammgast_core::ids::LocationId;
use stammgast_store::LocationRecord;

impl App {
    pub async fn locations(&self, caller: &Caller) -> Result<Vec<LocationRecord>, AppError> {
        caller.require(Scope::MembersRead)?;
        Ok(self.store.locations(caller.business_id).await?)
    }

    /// The location with this id, if it is one of the caller's business.
    pub async fn location(
        &self,
        caller: &Caller,
        id: LocationId,
    ) -> Result<LocationRecord, AppError> {
        self.locations(caller)
            .await?
            .into_iter()
            .find(|location| location.id == id)
            .ok_or(AppError::NotFound)
    }

    pub async fn add_location(
        &self,
        caller: &Caller,
        name: &str,
        address: &str,
    ) -> Result<LocationId, AppError> {
        caller.require(Scope::ProgramWrite)?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 80 {
            return Err(AppError::invalid(
                "name",
                "give a name of 1 to 80 characters",
            ));
        }
        let address = address.trim();
        if address.chars().count() > 200 {
            return Err(AppError::invalid(
                "address",
                "give an address of at most 200 characters",
            ));
        }
        let id = LocationId::from_uuid(fresh::id());
        let location = LocationRecord {
            id,
            name: name.to_owned(),
            address: address.to_owned(),
        };
        self.store
            .create_location(caller.business_id, location, self.now())
            .await?;
        Ok(id)
    }
}
