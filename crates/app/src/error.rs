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
    /// A segment's filter expression does not read: where and why.
    #[error("filter: {0}")]
    InvalidFilter(stammgast_core::analytics::filter::FilterError),
    #[error("the program is not valid")]
    InvalidProgram(Vec<ProgramError>),
    #[error("missing or unknown API key")]
    Unauthenticated,
    #[error("this API key lacks the scope \"{0}\"")]
    Forbidden(&'static str),
    #[error("not found")]
    NotFound,
    /// Too many attempts (logins, joins); try again after the given time.
    #[error("too many attempts; try again in {retry_after_seconds} s")]
    RateLimited { retry_after_seconds: u64 },
    /// The mail server did not take a message (its reason, for the log).
    #[error("mail could not be sent: {0}")]
    Mail(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AppError {
    /// Names the element of a list an invalid field belongs to: `amount` becomes
    /// `events[3].amount`. Other errors pass unchanged.
    pub fn in_element(self, list: &str, index: usize) -> Self {
        match self {
            Self::Invalid { field, reason } => Self::Invalid {
                field: format!("{list}[{index}].{field}"),
                reason,
            },
            other => other,
        }
    }

    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }
}
