//! The team: who may log in to the counter and back office. Owners manage everyone but
//! themselves; managers manage cashiers.

use crate::sessions::{NewStaffAccount, StaffSession, parse_role};
use crate::{App, AppError};
use stammgast_core::ids::StaffId;
use stammgast_core::member::StaffRole;

/// A staff member as the team page lists them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TeamMember {
    pub id: StaffId,
    pub name: String,
    pub email: String,
    pub role: StaffRole,
}

/// Whether `actor` may add or remove someone with `role`.
fn may_manage(actor: &StaffSession, role: StaffRole) -> bool {
    match actor.role {
        StaffRole::Owner => true,
        StaffRole::Manager => role == StaffRole::Cashier,
        StaffRole::Cashier => false,
    }
}

impl App {
    pub async fn team(&self, actor: &StaffSession) -> Result<Vec<TeamMember>, AppError> {
        if !actor.role.may_manage() {
            return Err(AppError::Forbidden("staff"));
        }
        let staff = self.store.staff_of(actor.caller.business_id).await?;
        Ok(staff
            .into_iter()
            .filter_map(|record| {
                Some(TeamMember {
                    id: record.id,
                    role: parse_role(&record.role)?,
                    name: record.name,
                    email: record.email,
                })
            })
            .collect())
    }

    pub async fn add_to_team(
        &self,
        actor: &StaffSession,
        account: NewStaffAccount,
    ) -> Result<StaffId, AppError> {
        if !may_manage(actor, account.role) {
            return Err(AppError::invalid(
                "role",
                "you may not add staff with this role",
            ));
        }
        self.create_staff(actor.caller.business_id, account).await
    }

    /// Removes a staff member and ends their sessions; nobody removes themselves.
    pub async fn remove_from_team(
        &self,
        actor: &StaffSession,
        id: StaffId,
    ) -> Result<(), AppError> {
        let team = self.team(actor).await?;
        let member = team.iter().find(|m| m.id == id).ok_or(AppError::NotFound)?;
        if id == actor.staff_id || !may_manage(actor, member.role) {
            return Err(AppError::invalid(
                "staff",
                "you may not remove this account",
            ));
        }
        Ok(self
            .store
            .delete_staff(actor.caller.business_id, id)
            .await?)
    }
}
