//! The pages' texts in German and English (`i18n/*.toml`), and which language a request
//! gets: the `lang` cookie the switcher sets, else the browser's `Accept-Language`, else
//! German.

use axum::http::{HeaderMap, header};
use minijinja::value::Kwargs;
use minijinja::{Error, ErrorKind, State};
use stammgast_core::member::Language;
use std::collections::BTreeMap;
use std::sync::LazyLock;

pub const LANGUAGE_COOKIE: &str = "lang";

type Catalog = BTreeMap<String, String>;

static CATALOGS: LazyLock<[(Language, Catalog); 2]> = LazyLock::new(|| {
    [
        (Language::De, parse(include_str!("i18n/de.toml"))),
        (Language::En, parse(include_str!("i18n/en.toml"))),
    ]
});

/// The catalogs are part of the binary and checked by tests; a broken one is a build bug
/// that shows as missing texts, which the page tests catch.
fn parse(source: &str) -> Catalog {
    toml::from_str(source).unwrap_or_default()
}

fn catalog(language: Language) -> &'static Catalog {
    let catalogs = &*CATALOGS;
    match language {
        Language::De => &catalogs[0].1,
        Language::En => &catalogs[1].1,
    }
}

/// A text with its `{placeholders}` filled.
pub fn text(language: Language, key: &str, args: &[(&str, &str)]) -> Option<String> {
    let mut text = catalog(language).get(key)?.clone();
    for (name, value) in args {
        text = text.replace(&format!("{{{name}}}"), value);
    }
    Some(text)
}

/// `tr("key", name=value, …)` in templates, in the language of the page being rendered
/// (its `lang` variable). An unknown key is an error, so a page test finds it.
pub fn tr(state: &State, key: &str, kwargs: Kwargs) -> Result<String, Error> {
    let language = state
        .lookup("lang")
        .and_then(|value| value.as_str().and_then(|code| Language::parse(code).ok()))
        .unwrap_or_default();
    let mut args = Vec::new();
    for name in kwargs.args() {
        let value: minijinja::Value = kwargs.get(name)?;
        args.push((name, value.to_string()));
    }
    let borrowed: Vec<(&str, &str)> = args.iter().map(|(n, v)| (*n, v.as_str())).collect();
    text(language, key, &borrowed).ok_or_else(|| {
        Error::new(
            ErrorKind::UndefinedError,
            format!("no text \"{key}\" in {}", language.as_str()),
        )
    })
}

/// Why the domain refused, in the page's language: the refusal's stable code names the
/// text (`refusal_insufficient_points`); a refusal without one reads in English.
pub fn refusal(language: Language, error: &stammgast_core::engine::DomainError) -> String {
    let code = crate::problem::refusal(error).code;
    text(language, &format!("refusal_{code}"), &[]).unwrap_or_else(|| error.to_string())
}

/// The language the visitor switched to, if they did (the cookie).
pub fn chosen_language(headers: &HeaderMap) -> Option<Language> {
    super::session::cookie(headers, LANGUAGE_COOKIE).and_then(|v| Language::parse(v).ok())
}

/// The language for a request: cookie, then `Accept-Language` (first supported tag).
pub fn language_of(headers: &HeaderMap) -> Language {
    if let Some(language) = chosen_language(headers) {
        return language;
    }
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok())
        .and_then(|accepted| {
            accepted
                .split(',')
                .filter_map(|tag| Language::parse(tag.split(';').next()?.trim()).ok())
                .next()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn both_catalogs_have_the_same_keys_and_no_empty_texts() {
        let (de, en) = (catalog(Language::De), catalog(Language::En));
        assert!(de.len() > 50, "the German catalog did not parse");
        assert_eq!(de.keys().collect::<Vec<_>>(), en.keys().collect::<Vec<_>>());
        assert!(de.values().chain(en.values()).all(|t| !t.trim().is_empty()));
    }

    #[test]
    fn the_browser_language_decides_unless_a_cookie_says_otherwise() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_static("fr-FR, en-GB;q=0.8, de;q=0.5"),
        );
        assert_eq!(language_of(&headers), Language::En);
        headers.insert(header::COOKIE, HeaderValue::from_static("x=1; lang=de"));
        assert_eq!(language_of(&headers), Language::De);
        assert_eq!(language_of(&HeaderMap::new()), Language::De);
    }

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(
            text(Language::En, "card_hello", &[("name", "Anna")]).as_deref(),
            Some("Hello Anna!")
        );
    }
}
