//! An ordered JSON value: GraphQL responses list fields in the order the
//! query selected them, which `serde_json::Map` (sorted) would lose.

use std::fmt::Write as _;

#[derive(Debug, Clone, PartialEq)]
pub enum OVal {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<OVal>),
    Obj(Vec<(String, OVal)>),
}

impl OVal {
    pub fn str(s: impl Into<String>) -> OVal {
        OVal::Str(s.into())
    }

    pub fn obj<const N: usize>(pairs: [(&str, OVal); N]) -> OVal {
        OVal::Obj(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }

    /// A float when it has a fraction, otherwise an integer (as Shopify
    /// prints `maximumAvailable: 2000`).
    pub fn number(x: f64) -> OVal {
        if x.fract() == 0.0 && x.abs() < 9e15 {
            OVal::Int(x as i64)
        } else {
            OVal::Float(x)
        }
    }

    pub fn push(&mut self, key: &str, value: OVal) {
        if let OVal::Obj(pairs) = self {
            pairs.push((key.to_owned(), value));
        }
    }

    pub fn from_json(v: &serde_json::Value) -> OVal {
        use serde_json::Value as J;
        match v {
            J::Null => OVal::Null,
            J::Bool(b) => OVal::Bool(*b),
            J::Number(n) => n
                .as_i64()
                .map(OVal::Int)
                .unwrap_or_else(|| OVal::Float(n.as_f64().unwrap_or_default())),
            J::String(s) => OVal::Str(s.clone()),
            J::Array(a) => OVal::List(a.iter().map(OVal::from_json).collect()),
            J::Object(o) => OVal::Obj(o.iter().map(|(k, v)| (k.clone(), OVal::from_json(v))).collect()),
        }
    }

    pub fn write(&self, out: &mut String) {
        match self {
            OVal::Null => out.push_str("null"),
            OVal::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            OVal::Int(i) => {
                let _ = write!(out, "{i}");
            }
            OVal::Float(f) => {
                if f.is_finite() {
                    out.push_str(&serde_json::Value::from(*f).to_string());
                } else {
                    out.push_str("null");
                }
            }
            OVal::Str(s) => out.push_str(&serde_json::Value::from(s.as_str()).to_string()),
            OVal::List(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            OVal::Obj(pairs) => {
                out.push('{');
                for (i, (k, v)) in pairs.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::Value::from(k.as_str()).to_string());
                    out.push(':');
                    v.write(out);
                }
                out.push('}');
            }
        }
    }

    pub fn to_string_json(&self) -> String {
        let mut s = String::new();
        self.write(&mut s);
        s
    }
}

/// `{"line": l, "column": c}`.
pub fn location(pos: graphql_parser::Pos) -> OVal {
    OVal::obj([
        ("line", OVal::Int(pos.line as i64)),
        ("column", OVal::Int(pos.column as i64)),
    ])
}

/// A GraphQL error entry in graphql-ruby's key order.
pub fn gql_error(
    message: impl Into<String>,
    locations: &[graphql_parser::Pos],
    path: Option<Vec<OVal>>,
    extensions: OVal,
) -> OVal {
    let mut e = OVal::obj([("message", OVal::str(message))]);
    if !locations.is_empty() {
        e.push(
            "locations",
            OVal::List(locations.iter().map(|p| location(*p)).collect()),
        );
    }
    if let Some(path) = path {
        e.push("path", OVal::List(path));
    }
    e.push("extensions", extensions);
    e
}

/// A resolver-time error: graphql-ruby prints `extensions` before `path`.
pub fn runtime_error(
    message: impl Into<String>,
    locations: &[graphql_parser::Pos],
    extensions: OVal,
    path: Vec<OVal>,
) -> OVal {
    let mut e = OVal::obj([("message", OVal::str(message))]);
    if !locations.is_empty() {
        e.push(
            "locations",
            OVal::List(locations.iter().map(|p| location(*p)).collect()),
        );
    }
    e.push("extensions", extensions);
    e.push("path", OVal::List(path));
    e
}
