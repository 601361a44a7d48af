//! Importing members from a CSV file (a shop's old customer list): read leniently (comma
//! or semicolon, quoted fields, German or English headers), checked row by row in a dry
//! run that writes nothing, then joined in bulk. A row whose email or phone is already a
//! member is reported and skipped, so a repeated import adds nobody twice.

use crate::keys::{Caller, Scope};
use crate::{App, AppError, JoinMember};
use chrono::NaiveDate;
use stammgast_core::batch::{Command, Outcome};
use stammgast_core::csv::{self, fields};
use stammgast_core::engine::DomainError;
use stammgast_core::ids::EventId;
use std::collections::HashSet;

/// Rows one import request may carry (the page sends bigger files in parts).
pub const IMPORT_ROWS_MAX: usize = 5_000;

/// One row as read from the file, with its line number (1 is the header).
#[derive(Clone, Debug)]
pub struct ImportRow {
    pub line: usize,
    pub join: JoinMember,
}

/// A row that cannot be imported, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowProblem {
    pub line: usize,
    pub field: String,
    pub reason: String,
}

/// What an import (or its dry run) came to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub rows: usize,
    /// Rows that are (dry run: would be) new members.
    pub imported: usize,
    /// Rows whose email or phone is already a member.
    pub already_members: Vec<usize>,
    pub problems: Vec<RowProblem>,
}

const COLUMNS: [(&str, &[&str]); 5] = [
    (
        "first_name",
        &["first_name", "firstname", "vorname", "name"],
    ),
    ("email", &["email", "e-mail", "mail", "e_mail"]),
    (
        "phone",
        &[
            "phone",
            "telefon",
            "handy",
            "mobil",
            "mobile",
            "telefonnummer",
        ],
    ),
    ("birthday", &["birthday", "geburtstag", "geburtsdatum"]),
    ("language", &["language", "sprache"]),
];

/// A birthday as people write it: `1990-04-23` or `23.04.1990`.
fn birthday(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(text, "%d.%m.%Y"))
        .map_err(|_| format!("\"{text}\" is not a date like 1990-04-23 or 23.04.1990"))
}

/// Reads the file: the rows it can, and the problems of the others. The file's own
/// mistakes (no header, no first-name column) are one problem on line 1.
pub fn read_members_csv(text: &str) -> (Vec<ImportRow>, Vec<RowProblem>) {
    let text = text.trim_start_matches('\u{feff}');
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        return (
            Vec::new(),
            vec![RowProblem {
                line: 1,
                field: "file".into(),
                reason: "the file is empty".into(),
            }],
        );
    };
    let separator = csv::separator_of(header);
    let names: Vec<String> = fields(header, separator)
        .iter()
        .map(|h| h.to_lowercase())
        .collect();
    let column = |name: &str| {
        let aliases = COLUMNS
            .iter()
            .find(|(column, _)| *column == name)
            .map_or(&[][..], |(_, a)| *a);
        names
            .iter()
            .position(|header| aliases.contains(&header.as_str()))
    };
    let Some(first_name) = column("first_name") else {
        return (
            Vec::new(),
            vec![RowProblem {
                line: 1,
                field: "first_name".into(),
                reason: "the header has no first-name column (first_name or Vorname)".into(),
            }],
        );
    };
    let (email, phone, birthday_column, language) = (
        column("email"),
        column("phone"),
        column("birthday"),
        column("language"),
    );
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for (index, line) in lines {
        let values = fields(line, separator);
        let value = |at: Option<usize>| {
            at.and_then(|i| values.get(i))
                .filter(|v| !v.is_empty())
                .cloned()
        };
        let born = match value(birthday_column)
            .map(|text| birthday(&text))
            .transpose()
        {
            Ok(born) => born,
            Err(reason) => {
                problems.push(RowProblem {
                    line: index + 1,
                    field: "birthday".into(),
                    reason,
                });
                continue;
            }
        };
        rows.push(ImportRow {
            line: index + 1,
            join: JoinMember {
                first_name: value(Some(first_name)).unwrap_or_default(),
                email: value(email),
                phone: value(phone),
                birthday: born,
                language: value(language),
                consents: Vec::new(),
            },
        });
    }
    (rows, problems)
}

impl App {
    /// Checks (`dry_run`) or imports the members of a CSV file. Nothing is written on a dry
    /// run; an import writes all valid rows in one transaction.
    pub async fn import_members(
        &self,
        caller: &Caller,
        csv: &str,
        dry_run: bool,
    ) -> Result<ImportReport, AppError> {
        caller.require(Scope::MembersWrite)?;
        let (rows, mut problems) = read_members_csv(csv);
        if rows.len() > IMPORT_ROWS_MAX {
            return Err(AppError::invalid(
                "file",
                format!("send at most {IMPORT_ROWS_MAX} rows at a time"),
            ));
        }
        let mut report = ImportReport {
            rows: rows.len() + problems.len(),
            ..ImportReport::default()
        };
        let mut seen = HashSet::new();
        let mut valid = Vec::new();
        for row in rows {
            let line = row.line;
            let member = match row.join.into_new_member() {
                Ok(member) => member,
                Err(AppError::Invalid { field, reason }) => {
                    problems.push(RowProblem {
                        line,
                        field,
                        reason,
                    });
                    continue;
                }
                Err(other) => return Err(other),
            };
            let contacts = [
                member.contact.email().map(|e| format!("email:{e}")),
                member.contact.phone().map(|p| format!("phone:{p}")),
            ];
            if contacts
                .iter()
                .flatten()
                .any(|contact| !seen.insert(contact.clone()))
            {
                problems.push(RowProblem {
                    line,
                    field: "email".into(),
                    reason: "the same email or phone is on an earlier line".into(),
                });
                continue;
            }
            let exists = match (member.contact.email(), member.contact.phone()) {
                (Some(email), _)
                    if self
                        .store
                        .member_by_email(caller.business_id, email)
                        .await?
                        .is_some() =>
                {
                    true
                }
                (_, Some(phone)) => self
                    .store
                    .member_by_phone(caller.business_id, phone)
                    .await?
                    .is_some(),
                _ => false,
            };
            if exists {
                report.already_members.push(line);
            } else {
                valid.push((line, member));
            }
        }
        problems.sort_by_key(|problem| problem.line);
        report.problems = problems;
        if dry_run {
            report.imported = valid.len();
            return Ok(report);
        }
        let requests = valid
            .iter()
            .map(|(_, member)| {
                let command = Command::Join {
                    member: member.clone(),
                    signup_event: EventId::from_uuid(crate::fresh::id()),
                };
                self.request(caller, None, command)
            })
            .collect();
        let decisions = self.store.submit(requests).await?;
        for ((line, _), decision) in valid.iter().zip(decisions) {
            match decision {
                Ok(Outcome::Joined { .. }) => report.imported += 1,
                // Joined by someone else since the check: a member all the same.
                Err(DomainError::ContactTaken(_)) => report.already_members.push(*line),
                Ok(other) => {
                    return Err(AppError::Store(stammgast_store::StoreError::Other(
                        format!("a join came back as {other:?}"),
                    )));
                }
                Err(refusal) => report.problems.push(RowProblem {
                    line: *line,
                    field: "row".into(),
                    reason: refusal.to_string(),
                }),
            }
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn german_excel_files_with_semicolons_quotes_and_a_bom_are_read() {
        let csv = "\u{feff}Vorname;E-Mail;Telefon;Geburtstag\r\nAnna;anna@example.com;;23.04.1990\r\n\"Müller; Ben\";;+49 151 1234567;\r\n";
        let (rows, problems) = read_members_csv(csv);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].join.email.as_deref(), Some("anna@example.com"));
        assert_eq!(rows[0].join.birthday, NaiveDate::from_ymd_opt(1990, 4, 23));
        assert_eq!(rows[1].join.first_name, "Müller; Ben");
        assert_eq!(rows[1].line, 3);
    }

    #[test]
    fn a_bad_date_is_a_problem_of_its_line_and_a_file_without_names_is_refused() {
        let (rows, problems) =
            read_members_csv("first_name,email,birthday\nAnna,a@b.de,1990-13-01\nBen,b@b.de,\n");
        assert_eq!(rows.len(), 1);
        assert_eq!(
            (problems[0].line, problems[0].field.as_str()),
            (2, "birthday")
        );
        let (_, problems) = read_members_csv("email\na@b.de\n");
        assert_eq!(problems[0].field, "first_name");
    }
}
