//! A journey's message: a subject and a text per language with variables (`{first_name}`,
//! `{points}`, `{tier}`, `{business}`), rendered as plain text and as HTML, each with the
//! footer every marketing mail carries: the link to unsubscribe and the business's imprint.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageText {
    pub subject: String,
    pub body: String,
}

/// The message in German and English; a member gets the one of their language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageTemplate {
    pub de: MessageText,
    pub en: MessageText,
}

/// The variables a message may use.
pub const VARIABLES: [&str; 4] = ["first_name", "points", "tier", "business"];

/// A rendered message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// What closes every marketing mail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Footer {
    pub unsubscribe_url: String,
    pub imprint: String,
}

impl MessageTemplate {
    /// The text for `language` (`de`, `en`; German otherwise).
    pub fn text(&self, language: &str) -> &MessageText {
        match language {
            "en" => &self.en,
            _ => &self.de,
        }
    }

    /// Refuses empty or overlong texts and unknown variables: the field and why.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        for (language, text) in [("de", &self.de), ("en", &self.en)] {
            let (subject, body) = match language {
                "de" => ("message.de.subject", "message.de.body"),
                _ => ("message.en.subject", "message.en.body"),
            };
            if text.subject.trim().is_empty() || text.subject.chars().count() > 150 {
                return Err((subject, "a subject has 1 to 150 characters".into()));
            }
            if text.body.trim().is_empty() || text.body.chars().count() > 5_000 {
                return Err((body, "a text has 1 to 5000 characters".into()));
            }
            for (field, part) in [(subject, &text.subject), (body, &text.body)] {
                if let Some(unknown) = variables(part).find(|v| !VARIABLES.contains(v)) {
                    return Err((
                        field,
                        format!(
                            "{{{unknown}}} is not a variable; use {}",
                            VARIABLES.map(|v| format!("{{{v}}}")).join(", ")
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The message in `language` with `values` filled in and the footer added.
    pub fn render(&self, language: &str, values: &[(&str, String)], footer: &Footer) -> Rendered {
        let text = self.text(language);
        let fill = |part: &str| {
            values.iter().fold(part.to_owned(), |part, (name, value)| {
                part.replace(&format!("{{{name}}}"), value)
            })
        };
        let subject = fill(&text.subject);
        let body = fill(&text.body);
        let unsubscribe = match language {
            "en" => "No more mail like this:",
            _ => "Keine solchen Mails mehr:",
        };
        let plain = format!(
            "{body}\n\n-- \n{unsubscribe} {}\n\n{}\n",
            footer.unsubscribe_url, footer.imprint
        );
        let paragraphs: String = body
            .split("\n\n")
            .map(|p| format!("<p>{}</p>", escape(p.trim()).replace('\n', "<br>")))
            .collect();
        let html = format!(
            "<!doctype html><html lang=\"{language}\"><body>{paragraphs}<hr><p><small>{unsubscribe} <a href=\"{url}\">{url}</a></small></p><p><small>{imprint}</small></p></body></html>",
            url = escape(&footer.unsubscribe_url),
            imprint = escape(footer.imprint.trim()).replace('\n', "<br>"),
        );
        Rendered {
            subject,
            text: plain,
            html,
        }
    }
}

/// The `{name}`s in a text.
fn variables(text: &str) -> impl Iterator<Item = &str> {
    text.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template() -> MessageTemplate {
        MessageTemplate {
            de: MessageText {
                subject: "Wir vermissen dich, {first_name}".into(),
                body: "Hallo {first_name},\n\ndu hast {points} Punkte bei {business}.".into(),
            },
            en: MessageText {
                subject: "We miss you, {first_name}".into(),
                body: "Hello {first_name},\n\nyou have {points} points at {business}.".into(),
            },
        }
    }

    #[test]
    fn a_message_is_rendered_in_the_members_language_with_footer_in_text_and_html() {
        let footer = Footer {
            unsubscribe_url: "https://x.example/unsubscribe/t".into(),
            imprint: "Café <Morgenrot>\nHauptstr. 1".into(),
        };
        let values = [
            ("first_name", "Anna".to_owned()),
            ("points", "120".to_owned()),
            ("business", "Café Morgenrot".to_owned()),
        ];
        let de = template().render("de", &values, &footer);
        assert_eq!(de.subject, "Wir vermissen dich, Anna");
        assert!(
            de.text
                .starts_with("Hallo Anna,\n\ndu hast 120 Punkte bei Café Morgenrot.")
        );
        assert!(
            de.text
                .contains("Keine solchen Mails mehr: https://x.example/unsubscribe/t")
        );
        assert!(
            de.html
                .contains("<p>du hast 120 Punkte bei Café Morgenrot.</p>")
        );
        assert!(
            de.html.contains("Café &lt;Morgenrot&gt;<br>Hauptstr. 1"),
            "{}",
            de.html
        );
        let en = template().render("en", &values, &footer);
        assert_eq!(en.subject, "We miss you, Anna");
        assert!(en.text.contains("No more mail like this:"));
        assert_eq!(
            template().render("fr", &values, &footer).subject,
            de.subject
        );
    }

    #[test]
    fn unknown_variables_and_empty_texts_are_refused_with_the_field() {
        assert_eq!(template().check(), Ok(()));
        let mut typo = template();
        typo.en.body = "Hi {firstname}".into();
        let (field, reason) = typo.check().unwrap_err();
        assert_eq!(field, "message.en.body");
        assert!(reason.contains("{firstname} is not a variable"), "{reason}");
        let mut empty = template();
        empty.de.subject = " ".into();
        assert_eq!(empty.check().unwrap_err().0, "message.de.subject");
    }
}
