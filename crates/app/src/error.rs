//! Why a use case failed: the domain refused, the input was invalid, the caller may not,
//! or the storage failed.

use stammgast_core::engine::DomainError;
use stammgast_core::program::ProgramError;
use stammgast_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// A field of the input is not acceptable: which one, and why.
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    #[error("the program is not valid")]
    InvalidProgram(Vec<ProgramError>),
    #[error("missing or unknown API key")]
    Unauthenticated,
    #[error("this API key lacks the scope \"{0}\"")]
    Forbidden(&'static str),
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AppError {
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }
}
