//! Custom segments (SPEC §3): a filter expression an owner writes, such as
//! `visits >= 5 and bought cake and not tag no-mail and consent email`, parsed with a
//! precise error (where and why) and evaluated against each member's profile.
//!
//! The language: conditions joined by `and`/`und`, `or`/`oder`, negated by `not`/`nicht`,
//! grouped with parentheses; `not` binds tightest, then `and`, then `or`. The conditions:
//! - `spend`, `visits`, `points`, `days_since_last_visit`, `days_since_joined`,
//!   `birthday_month` compared with `=`, `!=`, `<`, `<=`, `>`, `>=` to a number (spend in
//!   the business's currency, `99.50`; a member who never came has gone without a visit
//!   since joining; a member without a birthday matches no `birthday_month` condition);
//! - `tier`, `lifecycle`, `rfm` with `=` or `!=` and a name;
//! - `bought CATEGORY`, `tag TAG`, `consent email|sms|push`; a name with spaces is quoted.

use super::membership::Placement;
use super::segments::{Lifecycle, MemberFacts, RfmSegment};
use super::snapshot::MemberAggregate;
use crate::activity::category_key;
use crate::ids::{MemberId, Slug};
use crate::member::Channel;
use std::fmt;

/// A parsed filter expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Filter {
    Any(Vec<Filter>),
    All(Vec<Filter>),
    Not(Box<Filter>),
    Condition(Condition),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Condition {
    Compare {
        field: NumberField,
        op: Comparison,
        value: i64,
    },
    Is {
        field: NameField,
        negated: bool,
        name: String,
    },
    Bought(String),
    Tag(Slug),
    Consent(Channel),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumberField {
    /// In cents; written in currency units.
    Spend,
    Visits,
    Points,
    DaysSinceLastVisit,
    DaysSinceJoined,
    BirthdayMonth,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameField {
    Tier,
    Lifecycle,
    Rfm,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparison {
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

impl Comparison {
    const ALL: [Comparison; 6] = [
        Self::Equal,
        Self::NotEqual,
        Self::Less,
        Self::LessOrEqual,
        Self::Greater,
        Self::GreaterOrEqual,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Self::Equal => "=",
            Self::NotEqual => "!=",
            Self::Less => "<",
            Self::LessOrEqual => "<=",
            Self::Greater => ">",
            Self::GreaterOrEqual => ">=",
        }
    }

    fn holds(self, left: i64, right: i64) -> bool {
        match self {
            Self::Equal => left == right,
            Self::NotEqual => left != right,
            Self::Less => left < right,
            Self::LessOrEqual => left <= right,
            Self::Greater => left > right,
            Self::GreaterOrEqual => left >= right,
        }
    }
}

impl NumberField {
    const ALL: [NumberField; 6] = [
        Self::Spend,
        Self::Visits,
        Self::Points,
        Self::DaysSinceLastVisit,
        Self::DaysSinceJoined,
        Self::BirthdayMonth,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Self::Spend => "spend",
            Self::Visits => "visits",
            Self::Points => "points",
            Self::DaysSinceLastVisit => "days_since_last_visit",
            Self::DaysSinceJoined => "days_since_joined",
            Self::BirthdayMonth => "birthday_month",
        }
    }
}

impl NameField {
    const ALL: [NameField; 3] = [Self::Tier, Self::Lifecycle, Self::Rfm];

    fn as_str(self) -> &'static str {
        match self {
            Self::Tier => "tier",
            Self::Lifecycle => "lifecycle",
            Self::Rfm => "rfm",
        }
    }
}

/// Where a filter expression is wrong (the character position, counted from 1) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterError {
    pub position: usize,
    pub reason: Reason,
}

/// Why a filter does not read. Each reason has a key and named values, so pages can say
/// it in the reader's language; `Display` says it in English (the API's language).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    TooLong,
    Empty,
    ExpectedJoin {
        found: Found,
    },
    UnclosedQuote,
    LoneBang,
    NoMeaning {
        text: String,
    },
    TooDeep,
    UnclosedParenthesis,
    ExpectedCondition {
        found: Found,
    },
    UnknownCondition {
        word: String,
    },
    ExpectedNumber {
        after: String,
        found: Found,
    },
    NotAnAmount {
        text: String,
    },
    NotWhole {
        field: String,
        text: String,
    },
    NotAMonth {
        value: i64,
    },
    ExpectedOperator {
        after: String,
        found: Found,
    },
    EqualityOnly {
        field: String,
    },
    UnknownName {
        field: String,
        name: String,
        known: Vec<String>,
    },
    ExpectedCategory {
        found: Found,
    },
    ExpectedTag {
        found: Found,
    },
    ExpectedChannel {
        found: Found,
    },
    ExpectedName {
        after: String,
        found: Found,
    },
    BadTag,
    NotAChannel {
        text: String,
    },
}

/// What stood where something else was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    End,
    /// The text as written.
    Text(String),
}

const CONDITIONS: &str = "spend, visits, points, days_since_last_visit, days_since_joined, \
    birthday_month, tier, lifecycle, rfm, bought, tag, consent";

impl Reason {
    /// The reason's name (`expected_number`, …), for translations.
    pub fn key(&self) -> &'static str {
        match self {
            Self::TooLong => "too_long",
            Self::Empty => "empty",
            Self::ExpectedJoin { .. } => "expected_join",
            Self::UnclosedQuote => "unclosed_quote",
            Self::LoneBang => "lone_bang",
            Self::NoMeaning { .. } => "no_meaning",
            Self::TooDeep => "too_deep",
            Self::UnclosedParenthesis => "unclosed_parenthesis",
            Self::ExpectedCondition { .. } => "expected_condition",
            Self::UnknownCondition { .. } => "unknown_condition",
            Self::ExpectedNumber { .. } => "expected_number",
            Self::NotAnAmount { .. } => "not_an_amount",
            Self::NotWhole { .. } => "not_whole",
            Self::NotAMonth { .. } => "not_a_month",
            Self::ExpectedOperator { .. } => "expected_operator",
            Self::EqualityOnly { .. } => "equality_only",
            Self::UnknownName { known, .. } if known.is_empty() => "unknown_name_none_known",
            Self::UnknownName { .. } => "unknown_name",
            Self::ExpectedCategory { .. } => "expected_category",
            Self::ExpectedTag { .. } => "expected_tag",
            Self::ExpectedChannel { .. } => "expected_channel",
            Self::ExpectedName { .. } => "expected_name",
            Self::BadTag => "bad_tag",
            Self::NotAChannel { .. } => "not_a_channel",
        }
    }

    /// The named values the reason's text refers to (`found` apart, see `found`).
    pub fn values(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::NoMeaning { text } | Self::NotAnAmount { text } | Self::NotAChannel { text } => {
                vec![("text", text.clone())]
            }
            Self::UnknownCondition { word } => {
                vec![("word", word.clone()), ("conditions", CONDITIONS.into())]
            }
            Self::ExpectedCondition { .. } => vec![("conditions", CONDITIONS.into())],
            Self::ExpectedNumber { after, .. }
            | Self::ExpectedOperator { after, .. }
            | Self::ExpectedName { after, .. } => vec![("after", after.clone())],
            Self::NotWhole { field, text } => {
                vec![("field", field.clone()), ("text", text.clone())]
            }
            Self::NotAMonth { value } => vec![("value", value.to_string())],
            Self::EqualityOnly { field } => vec![("field", field.clone())],
            Self::UnknownName { field, name, known } => vec![
                ("field", field.clone()),
                ("name", name.clone()),
                ("known", known.join(", ")),
            ],
            _ => Vec::new(),
        }
    }

    /// What stood where something else was expected, for the reasons that say so.
    pub fn found(&self) -> Option<&Found> {
        match self {
            Self::ExpectedJoin { found }
            | Self::ExpectedCondition { found }
            | Self::ExpectedNumber { found, .. }
            | Self::ExpectedOperator { found, .. }
            | Self::ExpectedCategory { found }
            | Self::ExpectedTag { found }
            | Self::ExpectedChannel { found }
            | Self::ExpectedName { found, .. } => Some(found),
            _ => None,
        }
    }

    /// The English text, with `{name}` placeholders for the values.
    fn english(&self) -> &'static str {
        match self {
            Self::TooLong => "a filter has 2000 characters at most",
            Self::Empty => "the filter is empty: write a condition such as visits >= 5",
            Self::ExpectedJoin { .. } => "expected and, or or the end of the filter, found {found}",
            Self::UnclosedQuote => "this quote is never closed",
            Self::LoneBang => "'!' is only used in '!=' (not equal)",
            Self::NoMeaning { .. } => "'{text}' has no meaning here",
            Self::TooDeep => "the filter nests too deeply",
            Self::UnclosedParenthesis => "this parenthesis is never closed",
            Self::ExpectedCondition { .. } => "expected a condition ({conditions}), found {found}",
            Self::UnknownCondition { .. } => {
                "'{word}' is not known: a condition is one of {conditions}"
            }
            Self::ExpectedNumber { .. } => "expected a number after {after}, found {found}",
            Self::NotAnAmount { .. } => "{text} is not an amount: write it like 25 or 99.50",
            Self::NotWhole { .. } => "{field} is compared with a whole number, not {text}",
            Self::NotAMonth { .. } => "{value} is not a month: use 1 to 12",
            Self::ExpectedOperator { .. } => {
                "expected =, !=, <, <=, > or >= after {after}, found {found}"
            }
            Self::EqualityOnly { .. } => "{field} is compared with = or != only",
            Self::UnknownName { known, .. } if known.is_empty() => {
                "'{name}' is not a {field}: the program has none"
            }
            Self::UnknownName { .. } => "'{name}' is not a {field}: known are {known}",
            Self::ExpectedCategory { .. } => "expected a category after bought, found {found}",
            Self::ExpectedTag { .. } => "expected a tag after tag, found {found}",
            Self::ExpectedChannel { .. } => {
                "expected a channel after consent (email, sms or push), found {found}"
            }
            Self::ExpectedName { .. } => "expected a name after {after}, found {found}",
            Self::BadTag => "a tag has 1 to 40 characters, with a letter or digit among them",
            Self::NotAChannel { .. } => "'{text}' is not a channel: email, sms or push",
        }
    }
}

/// Fills `{name}` placeholders of `template` with `values`.
fn fill(template: &str, values: &[(&str, String)]) -> String {
    values
        .iter()
        .fold(template.to_owned(), |text, (name, value)| {
            text.replace(&format!("{{{name}}}"), value)
        })
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut values = self.values();
        if let Some(found) = self.found() {
            let found = match found {
                Found::End => "the end of the filter".to_owned(),
                Found::Text(text) => format!("'{text}'"),
            };
            values.push(("found", found));
        }
        f.write_str(&fill(self.english(), &values))
    }
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at character {}: {}", self.position, self.reason)
    }
}

impl std::error::Error for FilterError {}

/// Everything a filter can ask of one member.
#[derive(Clone, Debug, PartialEq)]
pub struct MemberProfile {
    pub aggregate: MemberAggregate,
    pub points: i64,
    pub tier: Option<String>,
    pub birthday: Option<chrono::NaiveDate>,
    /// When some of the member's points may expire next (see `MemberState::next_expiry_at`).
    pub next_expiry_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The segments the member was in at the last count (`lifecycle:…`, `rfm:…`,
    /// `custom:…`).
    pub segments: Vec<String>,
    /// The categories bought, each as `category_key` gives it.
    pub categories: Vec<String>,
    pub tags: Vec<Slug>,
    /// The channels with marketing consent.
    pub consents: Vec<Channel>,
}

/// A member as a filter sees them: the profile, the facts at the moment of counting and
/// the member's lifecycle and RFM segments.
#[derive(Clone, Copy, Debug)]
pub struct Subject<'a> {
    pub profile: &'a MemberProfile,
    pub facts: &'a MemberFacts,
    pub placement: &'a Placement,
}

impl Filter {
    /// Parses `text`; `tiers` are the program's tier ids, so a misspelt tier is an error.
    pub fn parse(text: &str, tiers: &[String]) -> Result<Self, FilterError> {
        const TEXT_CHARS_MAX: usize = 2_000;
        if text.chars().count() > TEXT_CHARS_MAX {
            return Err(FilterError {
                position: TEXT_CHARS_MAX + 1,
                reason: Reason::TooLong,
            });
        }
        let tokens = tokenize(text)?;
        let mut parser = Parser {
            tokens: &tokens,
            next: 0,
            end: text.chars().count() + 1,
            tiers,
            depth: 0,
        };
        if tokens.is_empty() {
            return Err(parser.error_here(Reason::Empty));
        }
        let filter = parser.any()?;
        match parser.peek() {
            None => Ok(filter),
            Some(_) => Err(parser.error_here(Reason::ExpectedJoin {
                found: parser.found(),
            })),
        }
    }

    pub fn matches(&self, subject: &Subject<'_>) -> bool {
        match self {
            Self::Any(filters) => filters.iter().any(|f| f.matches(subject)),
            Self::All(filters) => filters.iter().all(|f| f.matches(subject)),
            Self::Not(filter) => !filter.matches(subject),
            Self::Condition(condition) => condition.matches(subject),
        }
    }
}

/// The tag a text names: `Kuchen Fan` → `kuchen-fan`. It needs a letter or digit and has
/// 40 characters at most.
pub fn tag(text: &str) -> Result<Slug, String> {
    const TAG_CHARS_MAX: usize = 40;
    let text = text.trim();
    if !text.chars().any(char::is_alphanumeric) || text.chars().count() > TAG_CHARS_MAX {
        return Err("a tag has 1 to 40 characters, with a letter or digit among them".into());
    }
    Ok(Slug::from_name(text, &[]))
}

/// The members of `profiles` the filter matches, given each member's facts and placement
/// (in the same order).
pub fn matching(
    filter: &Filter,
    profiles: &[MemberProfile],
    facts: &[MemberFacts],
    placements: &[Placement],
) -> Vec<MemberId> {
    profiles
        .iter()
        .zip(facts)
        .zip(placements)
        .filter(|((profile, facts), placement)| {
            filter.matches(&Subject {
                profile,
                facts,
                placement,
            })
        })
        .map(|((profile, _), _)| profile.aggregate.member_id)
        .collect()
}

impl Condition {
    fn matches(&self, subject: &Subject<'_>) -> bool {
        let profile = subject.profile;
        match self {
            Self::Compare { field, op, value } => {
                number(*field, subject).is_some_and(|left| op.holds(left, *value))
            }
            Self::Is {
                field,
                negated,
                name,
            } => {
                let actual = match field {
                    NameField::Tier => profile.tier.as_deref(),
                    NameField::Lifecycle => Some(subject.placement.lifecycle.as_str()),
                    NameField::Rfm => subject.placement.rfm.map(RfmSegment::as_str),
                };
                (actual == Some(name.as_str())) != *negated
            }
            Self::Bought(category) => profile.categories.contains(category),
            Self::Tag(tag) => profile.tags.contains(tag),
            Self::Consent(channel) => profile.consents.contains(channel),
        }
    }
}

/// A member's value of a number field; `None` where the member has none (no birthday).
fn number(field: NumberField, subject: &Subject<'_>) -> Option<i64> {
    let facts = subject.facts;
    let whole_days = |days: f64| days.floor() as i64;
    match field {
        NumberField::Spend => Some(subject.profile.aggregate.spend_cents),
        NumberField::Visits => i64::try_from(facts.visits).ok(),
        NumberField::Points => Some(subject.profile.points),
        NumberField::DaysSinceLastVisit => Some(whole_days(
            facts
                .days_since_last_visit
                .unwrap_or(facts.days_since_joined),
        )),
        NumberField::DaysSinceJoined => Some(whole_days(facts.days_since_joined)),
        NumberField::BirthdayMonth => subject
            .profile
            .birthday
            .map(|birthday| i64::from(chrono::Datelike::month(&birthday))),
    }
}

impl fmt::Display for Filter {
    /// The canonical text of the filter, which parses back to the same filter.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let joined = |f: &mut fmt::Formatter<'_>, filters: &[Filter], word: &str| {
            for (index, filter) in filters.iter().enumerate() {
                if index > 0 {
                    write!(f, " {word} ")?;
                }
                match filter {
                    Filter::Any(_) | Filter::All(_) => write!(f, "({filter})")?,
                    _ => write!(f, "{filter}")?,
                }
            }
            Ok(())
        };
        match self {
            Self::Any(filters) => joined(f, filters, "or"),
            Self::All(filters) => joined(f, filters, "and"),
            Self::Not(filter) => match filter.as_ref() {
                Filter::Any(_) | Filter::All(_) => write!(f, "not ({filter})"),
                _ => write!(f, "not {filter}"),
            },
            Self::Condition(condition) => write!(f, "{condition}"),
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Compare {
                field: field @ NumberField::Spend,
                op,
                value,
            } => write!(
                f,
                "{} {} {}.{:02}",
                field.as_str(),
                op.as_str(),
                value / 100,
                value % 100
            ),
            Self::Compare { field, op, value } => {
                write!(f, "{} {} {value}", field.as_str(), op.as_str())
            }
            Self::Is {
                field,
                negated,
                name,
            } => {
                let op = if *negated { "!=" } else { "=" };
                write!(f, "{} {op} {}", field.as_str(), quoted(name))
            }
            Self::Bought(category) => write!(f, "bought {}", quoted(category)),
            Self::Tag(tag) => write!(f, "tag {}", quoted(tag.as_str())),
            Self::Consent(channel) => write!(f, "consent {}", channel.as_str()),
        }
    }
}

fn quoted(name: &str) -> String {
    let is_word = !name.is_empty() && name.chars().all(is_word_char) && !is_keyword(name);
    if is_word {
        name.to_owned()
    } else {
        format!("\"{name}\"")
    }
}

fn is_keyword(word: &str) -> bool {
    Keyword::of(word).is_some()
}

// --- tokens ---

#[derive(Clone, Debug, PartialEq)]
enum TokenKind {
    Word(String),
    Quoted(String),
    Number(String),
    Operator(Comparison),
    Open,
    Close,
}

impl TokenKind {
    /// The token as written.
    fn text(&self) -> String {
        match self {
            Self::Word(text) | Self::Number(text) => text.clone(),
            Self::Quoted(text) => format!("\"{text}\""),
            Self::Operator(op) => op.as_str().to_owned(),
            Self::Open => "(".into(),
            Self::Close => ")".into(),
        }
    }
}

#[derive(Clone, Debug)]
struct Token {
    kind: TokenKind,
    /// Counted in characters from 1.
    position: usize,
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

fn tokenize(text: &str) -> Result<Vec<Token>, FilterError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        let c = chars[at];
        let position = at + 1;
        let take_while = |from: usize, keep: &dyn Fn(char) -> bool| {
            let mut end = from;
            while end < chars.len() && keep(chars[end]) {
                end += 1;
            }
            end
        };
        let (kind, next) = match c {
            c if c.is_whitespace() => {
                at += 1;
                continue;
            }
            '(' => (TokenKind::Open, at + 1),
            ')' => (TokenKind::Close, at + 1),
            '"' | '\'' | '„' | '“' => {
                let closing =
                    |q: char| matches!((c, q), ('"', '"') | ('\'', '\'') | ('„' | '“', '“' | '"'));
                let end = take_while(at + 1, &|q| !closing(q));
                if end == chars.len() {
                    return Err(FilterError {
                        position,
                        reason: Reason::UnclosedQuote,
                    });
                }
                let inner: String = chars[at + 1..end].iter().collect();
                (TokenKind::Quoted(inner), end + 1)
            }
            '<' | '>' | '=' | '!' => {
                let two: String = chars[at..(at + 2).min(chars.len())].iter().collect();
                let (op, width) = match Comparison::ALL.iter().find(|op| op.as_str() == two) {
                    Some(op) => (*op, 2),
                    None => match Comparison::ALL
                        .iter()
                        .find(|op| op.as_str() == c.to_string())
                    {
                        Some(op) => (*op, 1),
                        None => {
                            return Err(FilterError {
                                position,
                                reason: Reason::LoneBang,
                            });
                        }
                    },
                };
                (TokenKind::Operator(op), at + width)
            }
            c if c.is_ascii_digit() => {
                let end = take_while(at, &|d| d.is_ascii_digit() || d == '.' || d == ',');
                let number: String = chars[at..end].iter().collect();
                (TokenKind::Number(number), end)
            }
            c if is_word_char(c) => {
                let end = take_while(at, &is_word_char);
                (TokenKind::Word(chars[at..end].iter().collect()), end)
            }
            other => {
                return Err(FilterError {
                    position,
                    reason: Reason::NoMeaning {
                        text: other.to_string(),
                    },
                });
            }
        };
        tokens.push(Token { kind, position });
        at = next;
    }
    Ok(tokens)
}

// --- parser ---

#[derive(Clone, Copy, PartialEq, Eq)]
enum Keyword {
    And,
    Or,
    Not,
}

impl Keyword {
    fn of(word: &str) -> Option<Self> {
        match word.to_lowercase().as_str() {
            "and" | "und" => Some(Self::And),
            "or" | "oder" => Some(Self::Or),
            "not" | "nicht" => Some(Self::Not),
            _ => None,
        }
    }
}

struct Parser<'a> {
    tokens: &'a [Token],
    next: usize,
    /// The position just past the text, for errors at its end.
    end: usize,
    tiers: &'a [String],
    depth: usize,
}

const NESTING_MAX: usize = 32;

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next)
    }

    fn bump(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.next).cloned();
        self.next += 1;
        token
    }

    fn error_here(&self, reason: Reason) -> FilterError {
        FilterError {
            position: self.peek().map_or(self.end, |t| t.position),
            reason,
        }
    }

    /// What stands at the next position.
    fn found(&self) -> Found {
        self.peek()
            .map_or(Found::End, |token| Found::Text(token.kind.text()))
    }

    fn at_keyword(&self, keyword: Keyword) -> bool {
        matches!(self.peek(), Some(Token { kind: TokenKind::Word(w), .. }) if Keyword::of(w) == Some(keyword))
    }

    fn any(&mut self) -> Result<Filter, FilterError> {
        self.joined(Keyword::Or, Self::all, Filter::Any)
    }

    fn all(&mut self) -> Result<Filter, FilterError> {
        self.joined(Keyword::And, Self::unary, Filter::All)
    }

    fn joined(
        &mut self,
        keyword: Keyword,
        operand: fn(&mut Self) -> Result<Filter, FilterError>,
        combine: fn(Vec<Filter>) -> Filter,
    ) -> Result<Filter, FilterError> {
        let mut operands = vec![operand(self)?];
        while self.at_keyword(keyword) {
            self.next += 1;
            operands.push(operand(self)?);
        }
        Ok(if operands.len() == 1 {
            operands.remove(0)
        } else {
            combine(operands)
        })
    }

    fn unary(&mut self) -> Result<Filter, FilterError> {
        if self.depth >= NESTING_MAX {
            return Err(self.error_here(Reason::TooDeep));
        }
        self.depth += 1;
        let filter = if self.at_keyword(Keyword::Not) {
            self.next += 1;
            self.unary().map(|f| Filter::Not(Box::new(f)))
        } else if matches!(
            self.peek(),
            Some(Token {
                kind: TokenKind::Open,
                ..
            })
        ) {
            let open = self.bump().map_or(self.end, |t| t.position);
            let inner = self.any()?;
            match self.bump() {
                Some(Token {
                    kind: TokenKind::Close,
                    ..
                }) => Ok(inner),
                _ => Err(FilterError {
                    position: open,
                    reason: Reason::UnclosedParenthesis,
                }),
            }
        } else {
            self.condition().map(Filter::Condition)
        };
        self.depth -= 1;
        filter
    }

    fn condition(&mut self) -> Result<Condition, FilterError> {
        let Some(Token {
            kind: TokenKind::Word(word),
            position,
        }) = self.peek().cloned()
        else {
            return Err(self.error_here(Reason::ExpectedCondition {
                found: self.found(),
            }));
        };
        let word = word.to_lowercase();
        if let Some(field) = NumberField::ALL.into_iter().find(|f| f.as_str() == word) {
            self.next += 1;
            return self.comparison(field);
        }
        if let Some(field) = NameField::ALL.into_iter().find(|f| f.as_str() == word) {
            self.next += 1;
            return self.is(field);
        }
        let at = |position, reason| FilterError { position, reason };
        match word.as_str() {
            "bought" => {
                self.next += 1;
                let (category, _) = self.name(|found| Reason::ExpectedCategory { found })?;
                Ok(Condition::Bought(category_key(&category)))
            }
            "tag" => {
                self.next += 1;
                let (text, position) = self.name(|found| Reason::ExpectedTag { found })?;
                tag(&text)
                    .map(Condition::Tag)
                    .map_err(|_| at(position, Reason::BadTag))
            }
            "consent" => {
                self.next += 1;
                let (text, position) = self.name(|found| Reason::ExpectedChannel { found })?;
                Channel::parse(&text.to_lowercase())
                    .map(Condition::Consent)
                    .map_err(|_| at(position, Reason::NotAChannel { text }))
            }
            _ => Err(at(position, Reason::UnknownCondition { word })),
        }
    }

    fn comparison(&mut self, field: NumberField) -> Result<Condition, FilterError> {
        let op = self.operator(field.as_str())?;
        let Some(Token {
            kind: TokenKind::Number(number),
            position,
        }) = self.peek().cloned()
        else {
            return Err(self.error_here(Reason::ExpectedNumber {
                after: format!("{} {}", field.as_str(), op.as_str()),
                found: self.found(),
            }));
        };
        self.next += 1;
        let invalid = |reason| FilterError { position, reason };
        let value = if field == NumberField::Spend {
            crate::money::Cents::parse(&number)
                .map(crate::money::Cents::get)
                .map_err(|_| {
                    invalid(Reason::NotAnAmount {
                        text: number.clone(),
                    })
                })?
        } else {
            number.parse::<i64>().map_err(|_| {
                invalid(Reason::NotWhole {
                    field: field.as_str().into(),
                    text: number.clone(),
                })
            })?
        };
        if field == NumberField::BirthdayMonth && !(1..=12).contains(&value) {
            return Err(invalid(Reason::NotAMonth { value }));
        }
        Ok(Condition::Compare { field, op, value })
    }

    fn operator(&mut self, after: &str) -> Result<Comparison, FilterError> {
        if let Some(Token {
            kind: TokenKind::Operator(op),
            ..
        }) = self.peek().cloned()
        {
            self.next += 1;
            return Ok(op);
        }
        Err(self.error_here(Reason::ExpectedOperator {
            after: after.into(),
            found: self.found(),
        }))
    }

    fn is(&mut self, field: NameField) -> Result<Condition, FilterError> {
        let op = self.operator(field.as_str())?;
        let negated = match op {
            Comparison::Equal => false,
            Comparison::NotEqual => true,
            _ => {
                self.next -= 1;
                return Err(self.error_here(Reason::EqualityOnly {
                    field: field.as_str().into(),
                }));
            }
        };
        let after = format!("{} {}", field.as_str(), op.as_str());
        let (name, position) = self.name(|found| Reason::ExpectedName { after, found })?;
        let name = name.to_lowercase();
        let known: Vec<String> = match field {
            NameField::Tier => self.tiers.to_vec(),
            NameField::Lifecycle => Lifecycle::ALL
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect(),
            NameField::Rfm => RfmSegment::ALL
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect(),
        };
        if !known.contains(&name) {
            return Err(FilterError {
                position,
                reason: Reason::UnknownName {
                    field: field.as_str().into(),
                    name,
                    known,
                },
            });
        }
        Ok(Condition::Is {
            field,
            negated,
            name,
        })
    }

    /// A word or a quoted name, with its position; `expected` says why anything else is
    /// wrong. Quotes are how a name that reads like a keyword (a category called "not")
    /// is written, so only a bare word can be taken for a keyword.
    fn name(
        &mut self,
        expected: impl FnOnce(Found) -> Reason,
    ) -> Result<(String, usize), FilterError> {
        let name = match self.peek().cloned() {
            Some(Token {
                kind: TokenKind::Word(text) | TokenKind::Number(text),
                position,
            }) if !is_keyword(&text) => Some((text, position)),
            Some(Token {
                kind: TokenKind::Quoted(text),
                position,
            }) => Some((text, position)),
            _ => None,
        };
        match name {
            Some((text, position)) if !text.trim().is_empty() => {
                self.next += 1;
                Ok((text, position))
            }
            _ => Err(self.error_here(expected(self.found()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use proptest::prelude::*;
    use uuid::Uuid;

    fn tiers() -> Vec<String> {
        vec!["silver".into(), "gold".into()]
    }

    fn parse(text: &str) -> Result<Filter, FilterError> {
        Filter::parse(text, &tiers())
    }

    fn profile() -> MemberProfile {
        let joined_at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        MemberProfile {
            aggregate: MemberAggregate {
                member_id: MemberId::from_uuid(Uuid::from_u128(7)),
                joined_at,
                last_visit_at: Some(Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap()),
                visits: 6,
                spend_cents: 12_050,
            },
            points: 300,
            tier: Some("gold".into()),
            birthday: chrono::NaiveDate::from_ymd_opt(1990, 12, 24),
            next_expiry_at: None,
            segments: vec![],
            categories: vec!["cake".into(), "coffee".into()],
            tags: vec![Slug::parse("stammgast").unwrap()],
            consents: vec![Channel::Email],
        }
    }

    fn matches(text: &str, profile: &MemberProfile) -> bool {
        let now = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
        let a = &profile.aggregate;
        let facts = MemberFacts::at(
            now,
            a.joined_at,
            a.last_visit_at,
            a.visits,
            a.spend_cents,
            None,
        );
        let placement = Placement {
            lifecycle: Lifecycle::AtRisk,
            rfm: Some(RfmSegment::Loyal),
        };
        let filter = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        filter.matches(&Subject {
            profile,
            facts: &facts,
            placement: &placement,
        })
    }

    #[test]
    fn each_kind_of_condition_asks_what_it_says() {
        let member = profile();
        for (text, expected) in [
            ("spend >= 120.50", true),
            ("spend > 120.50", false),
            ("spend >= 120,5", true),
            ("visits = 6", true),
            ("visits < 6", false),
            ("points >= 300", true),
            ("days_since_last_visit >= 61", true),
            ("days_since_last_visit > 61", false),
            ("days_since_joined >= 151", true),
            ("birthday_month = 12", true),
            ("birthday_month != 12", false),
            ("tier = gold", true),
            ("tier != gold", false),
            ("tier = Silver", false),
            ("lifecycle = at_risk", true),
            ("rfm = loyal", true),
            ("rfm != champions", true),
            ("bought cake", true),
            ("bought \"  Cake \"", true),
            ("bought tea", false),
            ("tag stammgast", true),
            ("tag \"Stammgast\"", true),
            ("tag vip", false),
            ("consent email", true),
            ("consent sms", false),
        ] {
            assert_eq!(matches(text, &member), expected, "{text}");
        }
    }

    #[test]
    fn conditions_combine_with_not_and_or_in_that_order_and_in_german_too() {
        let member = profile();
        assert!(matches(
            "visits > 100 or bought cake and consent email",
            &member
        ));
        assert!(!matches(
            "(visits > 100 or bought cake) and consent sms",
            &member
        ));
        assert!(matches("not consent sms and nicht tag vip", &member));
        assert!(matches(
            "visits > 100 oder bought cake und consent email",
            &member
        ));
        assert!(!matches("not (bought cake or bought tea)", &member));
        assert_eq!(
            parse("not a_thing").unwrap_err().position,
            5,
            "not binds to the condition after it"
        );
    }

    #[test]
    fn a_member_without_a_birthday_or_a_visit_or_a_tier() {
        let mut member = profile();
        member.birthday = None;
        member.tier = None;
        member.aggregate.last_visit_at = None;
        assert!(!matches("birthday_month = 12", &member));
        assert!(
            !matches("birthday_month != 12", &member),
            "unknown is not 'not December'"
        );
        assert!(matches("tier != gold", &member), "no tier is not gold");
        assert!(
            matches("days_since_last_visit >= 151", &member),
            "no visit since joining 151 days ago"
        );
    }

    #[test]
    fn errors_say_where_and_what_to_write_instead() {
        for (text, position, words) in [
            ("", 1, "empty"),
            ("visits >=", 10, "expected a number after visits >="),
            ("visits >= many", 11, "found 'many'"),
            ("visits >= 2.5", 11, "whole number"),
            ("spend > 1.234", 9, "not an amount"),
            ("visit >= 2", 1, "'visit' is not known"),
            (
                "tier = platinum",
                8,
                "'platinum' is not a tier: known are silver, gold",
            ),
            ("tier > gold", 6, "= or != only"),
            (
                "lifecycle = sleepy",
                13,
                "known are new, active, loyal, at_risk, lapsed",
            ),
            ("birthday_month = 13", 18, "not a month"),
            ("consent fax", 9, "not a channel"),
            ("bought", 7, "expected a category after bought"),
            ("tag \"!!\"", 5, "a letter or digit"),
            ("bought \"cake", 8, "never closed"),
            ("(visits > 1 or tag vip", 1, "parenthesis is never closed"),
            ("visits > 1 tag vip", 12, "expected and, or or the end"),
            ("visits > 1 and", 15, "found the end of the filter"),
            ("visits ! 1", 8, "'!' is only used in '!='"),
            ("visits > 1 ; drop", 12, "';' has no meaning here"),
        ] {
            let error = parse(text).expect_err(text);
            assert_eq!(error.position, position, "{text}: {error}");
            assert!(error.reason.to_string().contains(words), "{text}: {error}");
        }
        let deep = format!("{}visits > 1{}", "(".repeat(40), ")".repeat(40));
        assert_eq!(parse(&deep).unwrap_err().reason, Reason::TooDeep);
    }

    #[test]
    fn a_name_that_reads_like_a_keyword_is_written_in_quotes() {
        let bought_not = Filter::Condition(Condition::Bought("not".into()));
        assert_eq!(parse("bought \"not\"").unwrap(), bought_not);
        assert_eq!(bought_not.to_string(), "bought \"not\"");
        assert!(
            parse("bought not").is_err(),
            "a bare keyword is no category"
        );
        assert!(parse("bought \"  \"").is_err(), "a blank category is none");
    }

    #[test]
    fn a_program_without_tiers_says_so() {
        let error = Filter::parse("tier = gold", &[]).unwrap_err();
        assert_eq!(
            error.reason.to_string(),
            "'gold' is not a tier: the program has none"
        );
    }

    fn condition() -> impl Strategy<Value = Filter> {
        let compare = (
            0..NumberField::ALL.len(),
            0..Comparison::ALL.len(),
            1..12i64,
        )
            .prop_map(|(field, op, value)| Condition::Compare {
                field: NumberField::ALL[field],
                op: Comparison::ALL[op],
                value,
            });
        let is =
            (any::<bool>(), 0..Lifecycle::ALL.len()).prop_map(|(negated, stage)| Condition::Is {
                field: NameField::Lifecycle,
                negated,
                name: Lifecycle::ALL[stage].as_str().into(),
            });
        let bought = "[a-zäö ]{1,12}"
            .prop_filter("not blank", |s| !s.trim().is_empty())
            .prop_map(|s| Condition::Bought(category_key(&s)));
        let consent = (0..Channel::ALL.len()).prop_map(|c| Condition::Consent(Channel::ALL[c]));
        prop_oneof![compare, is, bought, consent].prop_map(Filter::Condition)
    }

    fn filter() -> impl Strategy<Value = Filter> {
        condition().prop_recursive(4, 24, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 2..4).prop_map(Filter::Any),
                prop::collection::vec(inner.clone(), 2..4).prop_map(Filter::All),
                inner.prop_map(|f| Filter::Not(Box::new(f))),
            ]
        })
    }

    /// Nested groups of one kind flatten when parsed back (`a and (b and c)` reads as
    /// `a and b and c`), which means the same; compare filters with them flattened.
    fn flattened(filter: Filter) -> Filter {
        let flatten = |filters: Vec<Filter>, same: fn(&Filter) -> Option<&Vec<Filter>>| {
            let mut out = Vec::new();
            for f in filters.into_iter().map(flattened) {
                match same(&f) {
                    Some(inner) => out.extend(inner.iter().cloned()),
                    None => out.push(f),
                }
            }
            out
        };
        match filter {
            Filter::Any(fs) => Filter::Any(flatten(fs, |f| match f {
                Filter::Any(inner) => Some(inner),
                _ => None,
            })),
            Filter::All(fs) => Filter::All(flatten(fs, |f| match f {
                Filter::All(inner) => Some(inner),
                _ => None,
            })),
            Filter::Not(f) => Filter::Not(Box::new(flattened(*f))),
            condition => condition,
        }
    }

    proptest! {
        #[test]
        fn the_canonical_text_of_a_filter_parses_back_to_it(filter in filter()) {
            let text = filter.to_string();
            let parsed = parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
            prop_assert_eq!(flattened(parsed), flattened(filter), "{}", text);
        }

        #[test]
        fn no_text_makes_the_parser_panic(text in "[a-z_ ()<>=!.,\"0-9]{0,60}") {
            let _ = parse(&text);
        }
    }
}
