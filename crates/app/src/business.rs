//! Businesses: creating one (with a program and a first API key), publishing a new
//! program, and checking every ledger invariant of its database.

use crate::keys::{Scope, mint};
use crate::{App, AppError, fresh};
use stammgast_core::ids::BusinessId;
use stammgast_core::ledger::Violation;
use stammgast_core::program::parse_program;
use stammgast_store::NewBusiness;

/// The café template: a coffee stamp card, a point per euro and three tiers.
pub const DEFAULT_PROGRAM: &str = crate::setup::TEMPLATES[0].program;

#[derive(Clone, Debug)]
pub struct CreatedBusiness {
    pub business_id: BusinessId,
    /// Shown once; only its hash is stored.
    pub api_key: String,
}

/// What `check` found for one business.
#[derive(Clone, Debug)]
pub struct CheckReport {
    pub business_id: BusinessId,
    pub transfers: usize,
    pub members: usize,
    pub violations: Vec<Violation>,
}

impl App {
    /// Creates a business running `program` (JSON; the café template when `None`) and an
    /// API key with every scope.
    pub async fn create_business(
        &self,
        name: &str,
        program: Option<&str>,
    ) -> Result<CreatedBusiness, AppError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(AppError::invalid(
                "name",
                "give the business a name of 1 to 200 characters",
            ));
        }
        let program = program.unwrap_or(DEFAULT_PROGRAM);
        parse_program(program).map_err(AppError::InvalidProgram)?;
        let (api_key, token) = mint(&Scope::ALL, "created with the business");
        let business_id = BusinessId::from_uuid(fresh::id());
        self.store
            .create_business(NewBusiness {
                id: business_id,
                name: name.to_owned(),
                program: program.to_owned(),
                api_key,
                created_at: self.now(),
            })
            .await?;
        Ok(CreatedBusiness {
            business_id,
            api_key: token,
        })
    }

    /// Publishes a new version of the program; requests after it earn by the new rules.
    pub async fn publish_program(
        &self,
        business: BusinessId,
        program: &str,
    ) -> Result<i64, AppError> {
        let parsed = parse_program(program).map_err(AppError::InvalidProgram)?;
        let version = self
            .store
            .publish_program(business, program.to_owned(), self.now())
            .await?;
        if let Ok(mut currencies) = self.currencies.write() {
            currencies.insert(business, parsed.currency);
        }
        Ok(version)
    }

    /// Verifies every ledger invariant of every business in the database.
    pub async fn check(&self) -> Result<Vec<CheckReport>, AppError> {
        let mut reports = Vec::new();
        for business_id in self.store.businesses().await? {
            let snapshot = self.store.ledger_snapshot(business_id).await?;
            let violations = snapshot.violations();
            reports.push(CheckReport {
                business_id,
                transfers: snapshot.transfers.len(),
                members: snapshot.members.len(),
                violations,
            });
        }
        Ok(reports)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cafe_template_is_a_valid_program() {
        let program = parse_program(DEFAULT_PROGRAM).unwrap();
        assert_eq!(program.stamp_cards.len(), 1);
        assert_eq!(program.rewards.len(), 3);
    }
}
