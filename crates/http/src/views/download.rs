//! Files the pages hand out: tables as CSV (a member's data export, the dashboard's
//! tables) and the response that makes the browser save one.

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// A response the browser saves as `name`.
pub fn attachment(content_type: &'static str, name: &str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response()
}

/// Rows as CSV with CRLF line ends, as spreadsheets expect.
pub fn csv_table(rows: &[Vec<String>]) -> String {
    rows.iter()
        .map(|row| {
            row.iter()
                .map(|field| csv_field(field))
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect::<Vec<_>>()
        .join("\r\n")
        + "\r\n"
}

/// Quotes a field when it needs it, and defuses text a spreadsheet would run as a formula.
fn csv_field(field: &str) -> String {
    let defused = if field.starts_with(['=', '+', '-', '@']) && field.parse::<f64>().is_err() {
        format!("'{field}")
    } else {
        field.to_owned()
    };
    if defused.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_field("-120"), "-120");
        assert_eq!(csv_field("-12.5"), "-12.5");
    }

    #[test]
    fn tables_end_every_row_with_crlf() {
        let rows = vec![
            vec!["a".to_owned(), "b".to_owned()],
            vec!["1".to_owned(), "x,y".to_owned()],
        ];
        assert_eq!(csv_table(&rows), "a,b\r\n1,\"x,y\"\r\n");
    }
}
