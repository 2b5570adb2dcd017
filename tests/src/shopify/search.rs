//! Shopify's search syntax (shopify.dev/api/usage/search-syntax) for the
//! `query:` argument: `field:value` terms, implicit AND, `OR`, `NOT` / `-`,
//! parentheses, comparators (`:>`, `:>=`, `:<`, `:<=`), quoted values and a
//! trailing `*` for prefix matches.

use chrono::{DateTime, NaiveDate, Utc};

#[derive(Debug, Clone, PartialEq)]
pub enum Cmp {
    Eq,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    /// Lower-cased field name; `None` for free text.
    pub field: Option<String>,
    pub cmp: Cmp,
    pub value: String,
    /// Trailing `*` (prefix match).
    pub prefix: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Term(Term),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    All,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String, bool),
    Or,
    And,
    Not,
    Open,
    Close,
}

fn tokenize(q: &str) -> Vec<Tok> {
    let chars: Vec<char> = q.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '(' {
            out.push(Tok::Open);
            i += 1;
            continue;
        }
        if c == ')' {
            out.push(Tok::Close);
            i += 1;
            continue;
        }
        if c == '-' && out.last() != Some(&Tok::Not) {
            let next = chars.get(i + 1).copied().unwrap_or(' ');
            if !next.is_whitespace() {
                out.push(Tok::Not);
                i += 1;
                continue;
            }
        }
        // A word, possibly `field:"quoted value"`; quotes keep their content.
        let mut word = String::new();
        let mut quoted = false;
        while i < chars.len() {
            let c = chars[i];
            if c == '"' || c == '\'' {
                quoted = true;
                let quote = c;
                i += 1;
                while i < chars.len() && chars[i] != quote {
                    if chars[i] == '\\' && i + 1 < chars.len() {
                        i += 1;
                    }
                    word.push(chars[i]);
                    i += 1;
                }
                i += 1;
                continue;
            }
            if c.is_whitespace() || c == ')' || (c == '(' && !word.is_empty()) {
                break;
            }
            word.push(c);
            i += 1;
        }
        match (word.as_str(), quoted) {
            ("OR", false) => out.push(Tok::Or),
            ("AND", false) => out.push(Tok::And),
            ("NOT", false) => out.push(Tok::Not),
            _ => out.push(Tok::Word(word, quoted)),
        }
    }
    out
}

pub fn parse(q: &str) -> Expr {
    let toks = tokenize(q);
    let mut pos = 0;
    let e = parse_or(&toks, &mut pos);
    e.unwrap_or(Expr::All)
}

fn parse_or(t: &[Tok], pos: &mut usize) -> Option<Expr> {
    let mut parts = Vec::new();
    if let Some(e) = parse_and(t, pos) {
        parts.push(e);
    }
    while *pos < t.len() && t[*pos] == Tok::Or {
        *pos += 1;
        if let Some(e) = parse_and(t, pos) {
            parts.push(e);
        }
    }
    match parts.len() {
        0 => None,
        1 => parts.pop(),
        _ => Some(Expr::Or(parts)),
    }
}

fn parse_and(t: &[Tok], pos: &mut usize) -> Option<Expr> {
    let mut parts = Vec::new();
    while *pos < t.len() {
        match t[*pos] {
            Tok::Or | Tok::Close => break,
            Tok::And => {
                *pos += 1;
            }
            _ => {
                if let Some(e) = parse_unary(t, pos) {
                    parts.push(e);
                }
            }
        }
    }
    match parts.len() {
        0 => None,
        1 => parts.pop(),
        _ => Some(Expr::And(parts)),
    }
}

fn parse_unary(t: &[Tok], pos: &mut usize) -> Option<Expr> {
    let tok = t.get(*pos)?.clone();
    *pos += 1;
    match tok {
        Tok::Not => parse_unary(t, pos).map(|e| Expr::Not(Box::new(e))),
        Tok::Open => {
            let e = parse_or(t, pos);
            if t.get(*pos) == Some(&Tok::Close) {
                *pos += 1;
            }
            e
        }
        Tok::Word(w, quoted) => Some(Expr::Term(term(&w, quoted))),
        _ => None,
    }
}

fn term(word: &str, quoted: bool) -> Term {
    if (!quoted || word.contains(':'))
        && let Some((field, rest)) = word.split_once(':')
        && !field.is_empty()
        && field.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.')
    {
        let (cmp, value) = if let Some(v) = rest.strip_prefix(">=") {
            (Cmp::Ge, v)
        } else if let Some(v) = rest.strip_prefix("<=") {
            (Cmp::Le, v)
        } else if let Some(v) = rest.strip_prefix('>') {
            (Cmp::Gt, v)
        } else if let Some(v) = rest.strip_prefix('<') {
            (Cmp::Lt, v)
        } else {
            (Cmp::Eq, rest)
        };
        let prefix = value.ends_with('*') && !quoted;
        return Term {
            field: Some(field.to_lowercase()),
            cmp,
            value: value.trim_end_matches('*').to_owned(),
            prefix,
        };
    }
    let prefix = word.ends_with('*') && !quoted;
    Term {
        field: None,
        cmp: Cmp::Eq,
        value: word.trim_end_matches('*').to_owned(),
        prefix,
    }
}

impl Expr {
    /// Evaluates with `m` deciding single terms.
    pub fn matches(&self, m: &mut dyn FnMut(&Term) -> bool) -> bool {
        match self {
            Expr::All => true,
            Expr::Term(t) => m(t),
            Expr::And(parts) => parts.iter().all(|p| p.matches(m)),
            Expr::Or(parts) => parts.iter().any(|p| p.matches(m)),
            Expr::Not(e) => !e.matches(m),
        }
    }

    /// The values when the whole expression is `field:v1 OR field:v2 ...`
    /// with exact (non-prefix, `:`) terms: lets callers use an index.
    pub fn exact_values(&self, field: &str) -> Option<Vec<String>> {
        match self {
            Expr::Term(t) if t.field.as_deref() == Some(field) && t.cmp == Cmp::Eq && !t.prefix => {
                Some(vec![t.value.clone()])
            }
            Expr::Or(parts) => {
                let mut all = Vec::new();
                for p in parts {
                    all.extend(p.exact_values(field)?);
                }
                Some(all)
            }
            _ => None,
        }
    }

    /// Every term of the expression.
    pub fn terms(&self) -> Vec<&Term> {
        match self {
            Expr::All => Vec::new(),
            Expr::Term(t) => vec![t],
            Expr::And(p) | Expr::Or(p) => p.iter().flat_map(|e| e.terms()).collect(),
            Expr::Not(e) => e.terms(),
        }
    }
}

/// Case-insensitive text match honouring a trailing `*`.
pub fn text_matches(t: &Term, actual: &str) -> bool {
    let a = actual.to_lowercase();
    let v = t.value.to_lowercase();
    if t.prefix { a.starts_with(&v) } else { a == v }
}

pub fn compare<T: PartialOrd>(cmp: &Cmp, actual: &T, wanted: &T) -> bool {
    match cmp {
        Cmp::Eq => actual == wanted,
        Cmp::Gt => actual > wanted,
        Cmp::Ge => actual >= wanted,
        Cmp::Lt => actual < wanted,
        Cmp::Le => actual <= wanted,
    }
}

/// Parses a search timestamp: RFC 3339, a date, a year, or `now`.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("now") {
        return Some(Utc::now());
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    }
    if s.len() == 4
        && let Ok(y) = s.parse::<i32>()
    {
        return NaiveDate::from_ymd_opt(y, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc());
    }
    None
}
