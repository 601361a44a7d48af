//! A journey's message: a subject and a text per language with variables (`{first_name}`,
//! `{points}`, `{stamps_left}`, `{next_reward}`, …), rendered as plain text and as HTML,
//! with what it carries (a coupon with its QR code, a survey to answer) and the footer
//! every marketing mail carries: the link to unsubscribe and the business's imprint.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MessageText {
    pub subject: String,
    pub body: String,
}

/// The message in German and English; a member gets the one of their language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MessageTemplate {
    pub de: MessageText,
    pub en: MessageText,
}

/// The variables a message may use.
pub const VARIABLES: [&str; 8] = [
    "first_name",
    "points",
    "stamps_left",
    "next_reward",
    "last_product",
    "tier",
    "business",
    "coupon_code",
];

/// What a message carries besides its text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attachments {
    /// A coupon given with the message: its code and the address of its QR image.
    pub coupon: Option<(String, String)>,
    /// The survey's page; `?score=N` opens it with N chosen.
    pub survey_url: Option<String>,
}

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

    /// Refuses empty or overlong texts and unknown variables: the field (under `name`,
    /// such as `message`) and why.
    pub fn check(&self, name: &str) -> Result<(), (String, String)> {
        for (language, text) in [("de", &self.de), ("en", &self.en)] {
            let subject = format!("{name}.{language}.subject");
            let body = format!("{name}.{language}.body");
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

    /// The first field that uses `{variable}`, if one does.
    pub fn field_using(&self, name: &str, variable: &str) -> Option<String> {
        let wanted = |text: &str| variables(text).any(|v| v == variable);
        [("de", &self.de), ("en", &self.en)]
            .into_iter()
            .find_map(|(language, text)| {
                let part = if wanted(&text.subject) {
                    "subject"
                } else if wanted(&text.body) {
                    "body"
                } else {
                    return None;
                };
                Some(format!("{name}.{language}.{part}"))
            })
    }

    /// The message in `language` with `values` filled in, what it carries after the text,
    /// and the footer.
    pub fn render(
        &self,
        language: &str,
        values: &[(&str, String)],
        attachments: &Attachments,
        footer: &Footer,
    ) -> Rendered {
        let text = self.text(language);
        let fill = |part: &str| {
            values.iter().fold(part.to_owned(), |part, (name, value)| {
                part.replace(&format!("{{{name}}}"), value)
            })
        };
        let subject = fill(&text.subject);
        let body = fill(&text.body);
        let english = language == "en";
        let unsubscribe = if english {
            "No more messages like this:"
        } else {
            "Keine solchen Nachrichten mehr:"
        };
        let (carried_text, carried_html) = attachments.render(english);
        let plain = format!(
            "{body}\n{carried_text}\n-- \n{unsubscribe} {}\n\n{}\n",
            footer.unsubscribe_url, footer.imprint
        );
        let paragraphs: String = body
            .split("\n\n")
            .map(|p| format!("<p>{}</p>", escape(p.trim()).replace('\n', "<br>")))
            .collect();
        let html = format!(
            "<!doctype html><html lang=\"{language}\"><body>{paragraphs}{carried_html}<hr><p><small>{unsubscribe} <a href=\"{url}\">{url}</a></small></p><p><small>{imprint}</small></p></body></html>",
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

impl Attachments {
    /// The coupon and the survey as plain text and as HTML.
    fn render(&self, english: bool) -> (String, String) {
        let (mut text, mut html) = (String::new(), String::new());
        if let Some((code, qr_url)) = &self.coupon {
            let label = if english {
                "Your coupon (show it at the counter):"
            } else {
                "Dein Gutschein (an der Kasse zeigen):"
            };
            text.push_str(&format!("\n{label} {code}\n"));
            html.push_str(&format!(
                "<p>{label} <strong>{code}</strong></p><p><img src=\"{qr}\" alt=\"{code}\" width=\"200\" height=\"200\"></p>",
                code = escape(code),
                qr = escape(qr_url),
            ));
        }
        if let Some(url) = &self.survey_url {
            let question = if english {
                "How likely are you to recommend us to a friend? (0 = not at all, 10 = certainly)"
            } else {
                "Wie wahrscheinlich empfiehlst du uns weiter? (0 = gar nicht, 10 = auf jeden Fall)"
            };
            text.push_str(&format!("\n{question}\n{url}\n"));
            let scores: String = (0..=10)
                .map(|score| {
                    format!(
                        "<a href=\"{}?score={score}\" style=\"display:inline-block;min-width:2em;padding:.4em;margin:.1em;border:1px solid #888;text-align:center\">{score}</a>",
                        escape(url)
                    )
                })
                .collect();
            html.push_str(&format!("<p>{question}</p><p>{scores}</p>"));
        }
        (text, html)
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
        let none = Attachments::default();
        let de = template().render("de", &values, &none, &footer);
        assert_eq!(de.subject, "Wir vermissen dich, Anna");
        assert!(
            de.text
                .starts_with("Hallo Anna,\n\ndu hast 120 Punkte bei Café Morgenrot.")
        );
        assert!(
            de.text
                .contains("Keine solchen Nachrichten mehr: https://x.example/unsubscribe/t")
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
        let en = template().render("en", &values, &none, &footer);
        assert_eq!(en.subject, "We miss you, Anna");
        assert!(en.text.contains("No more messages like this:"));
        assert_eq!(
            template().render("fr", &values, &none, &footer).subject,
            de.subject
        );
    }

    #[test]
    fn a_coupon_comes_with_its_qr_image_and_a_survey_with_a_link_per_score() {
        let footer = Footer {
            unsubscribe_url: "https://x.example/u".into(),
            imprint: "Café".into(),
        };
        let attachments = Attachments {
            coupon: Some((
                "K7Q2M9XA".into(),
                "https://x.example/coupon-qr/K7Q2M9XA".into(),
            )),
            survey_url: Some("https://x.example/survey/t".into()),
        };
        let values = [("first_name", "Anna".to_owned())];
        let de = template().render("de", &values, &attachments, &footer);
        assert!(
            de.text
                .contains("Dein Gutschein (an der Kasse zeigen): K7Q2M9XA")
        );
        assert!(de.text.contains("https://x.example/survey/t\n"));
        assert!(
            de.html
                .contains("<img src=\"https://x.example/coupon-qr/K7Q2M9XA\"")
        );
        for score in 0..=10 {
            assert!(
                de.html.contains(&format!("survey/t?score={score}\"")),
                "{score}"
            );
        }
        let footer_at = de.text.find("-- \n").unwrap();
        assert!(
            de.text.find("K7Q2M9XA").unwrap() < footer_at,
            "before the footer"
        );
        let en = template().render("en", &values, &attachments, &footer);
        assert!(
            en.text
                .contains("Your coupon (show it at the counter): K7Q2M9XA")
        );
        assert!(en.text.contains("How likely are you to recommend us"));
    }

    #[test]
    fn unknown_variables_and_empty_texts_are_refused_with_the_field() {
        assert_eq!(template().check("message"), Ok(()));
        let mut typo = template();
        typo.en.body = "Hi {firstname}".into();
        let (field, reason) = typo.check("message").unwrap_err();
        assert_eq!(field, "message.en.body");
        assert!(reason.contains("{firstname} is not a variable"), "{reason}");
        let mut empty = template();
        empty.de.subject = " ".into();
        assert_eq!(
            empty.check("variant_b").unwrap_err().0,
            "variant_b.de.subject"
        );
        let mut coupon = template();
        assert_eq!(coupon.field_using("message", "coupon_code"), None);
        coupon.en.subject = "Your code {coupon_code}".into();
        assert_eq!(
            coupon.field_using("message", "coupon_code").as_deref(),
            Some("message.en.subject")
        );
    }
}
