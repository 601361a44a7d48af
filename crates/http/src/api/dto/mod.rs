//! The API's JSON shapes; their JSON Schemas feed the OpenAPI document.

mod journeys;
mod reports;
mod requests;
mod responses;
mod segments;

pub use journeys::*;
pub use reports::*;
pub use requests::*;
pub use responses::*;
pub use segments::*;
