//! The API's JSON shapes; their JSON Schemas feed the OpenAPI document.

mod requests;
mod responses;

pub use requests::*;
pub use responses::*;
