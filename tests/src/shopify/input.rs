//! Input values: coercing the request's `variables` against the operation's
//! variable definitions (graphql-ruby's `INVALID_VARIABLE` errors), checking
//! literal arguments, and resolving a field's arguments into JSON while keeping
//! the difference between an absent input field and an explicit `null`.

use graphql_parser::query::{Field, Value, VariableDefinition};
use serde_json::{Map, Value as J};

use super::json::{OVal, gql_error};
use super::schema::{Kind, Schema, TypeRef};

pub type Vars = Map<String, J>;

struct Problem {
    path: Vec<OVal>,
    explanation: String,
}

/// Coerces the provided variables; on failure returns the GraphQL errors.
pub fn coerce_variables<'a>(
    defs: &[VariableDefinition<'a, &'a str>],
    provided: &Map<String, J>,
    schema: &Schema,
) -> Result<Vars, Vec<OVal>> {
    let mut out = Vars::new();
    let mut errors = Vec::new();
    for def in defs {
        let ty = TypeRef::from_query_ast(&def.var_type);
        let name = def.name;
        let raw = provided.get(name);
        let value = match raw {
            Some(v) => Some(v.clone()),
            None => def
                .default_value
                .as_ref()
                .and_then(|d| literal_to_json(d, &Vars::new())),
        };
        let Some(value) = value else {
            if ty.is_non_null() {
                errors.push(variable_error(
                    name,
                    &ty,
                    def.position,
                    &J::Null,
                    vec![Problem {
                        path: Vec::new(),
                        explanation: "Expected value to not be null".into(),
                    }],
                ));
            }
            continue;
        };
        let mut problems = Vec::new();
        let mut path = Vec::new();
        let coerced = coerce(&value, &ty, schema, &mut path, &mut problems);
        if problems.is_empty() {
            out.insert(name.to_owned(), coerced);
        } else {
            errors.push(variable_error(name, &ty, def.position, &value, problems));
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

fn variable_error(name: &str, ty: &TypeRef, pos: graphql_parser::Pos, value: &J, problems: Vec<Problem>) -> OVal {
    let mut message = format!("Variable ${name} of type {} was provided invalid value", ty.display());
    let described: Vec<String> = problems
        .iter()
        .filter(|p| !p.path.is_empty())
        .map(|p| {
            let path: Vec<String> = p
                .path
                .iter()
                .map(|seg| match seg {
                    OVal::Int(i) => i.to_string(),
                    OVal::Str(s) => s.clone(),
                    _ => String::new(),
                })
                .collect();
            format!("{} ({})", path.join("."), p.explanation)
        })
        .collect();
    if !described.is_empty() {
        message.push_str(" for ");
        message.push_str(&described.join(", "));
    }
    let problems = OVal::List(
        problems
            .into_iter()
            .map(|p| OVal::obj([("path", OVal::List(p.path)), ("explanation", OVal::Str(p.explanation))]))
            .collect(),
    );
    gql_error(
        message,
        &[pos],
        None,
        OVal::obj([
            ("code", OVal::str("INVALID_VARIABLE")),
            ("value", OVal::from_json(value)),
            ("problems", problems),
        ]),
    )
}

fn coerce(value: &J, ty: &TypeRef, schema: &Schema, path: &mut Vec<OVal>, problems: &mut Vec<Problem>) -> J {
    match ty {
        TypeRef::NonNull(inner) => {
            if value.is_null() {
                problems.push(Problem {
                    path: path.clone(),
                    explanation: "Expected value to not be null".into(),
                });
                J::Null
            } else {
                coerce(value, inner, schema, path, problems)
            }
        }
        _ if value.is_null() => J::Null,
        TypeRef::List(inner) => match value {
            J::Array(items) => J::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        path.push(OVal::Int(i as i64));
                        let v = coerce(item, inner, schema, path, problems);
                        path.pop();
                        v
                    })
                    .collect(),
            ),
            single => J::Array(vec![coerce(single, inner, schema, path, problems)]),
        },
        TypeRef::Named(name) => coerce_named(value, name, schema, path, problems),
    }
}

fn coerce_named(value: &J, name: &str, schema: &Schema, path: &mut Vec<OVal>, problems: &mut Vec<Problem>) -> J {
    let bad = |problems: &mut Vec<Problem>, path: &Vec<OVal>| {
        problems.push(Problem {
            path: path.clone(),
            explanation: format!("Could not coerce value {value} to {name}"),
        });
        J::Null
    };
    match schema.kind(name) {
        Some(Kind::InputObject) => {
            let Some(obj) = value.as_object() else {
                return bad(problems, path);
            };
            let Some(def) = schema.get(name) else {
                return bad(problems, path);
            };
            let mut out = Map::new();
            for key in obj.keys() {
                if def.input_field(key).is_none() {
                    let mut p = path.clone();
                    p.push(OVal::str(key.as_str()));
                    problems.push(Problem {
                        path: p,
                        explanation: format!("Field is not defined on {name}"),
                    });
                }
            }
            for field in &def.input_fields {
                path.push(OVal::str(field.name.as_str()));
                match obj.get(&field.name) {
                    Some(v) => {
                        let c = coerce(v, &field.ty, schema, path, problems);
                        out.insert(field.name.clone(), c);
                    }
                    None => {
                        if let Some(d) = &field.default {
                            out.insert(field.name.clone(), d.clone());
                        } else if field.ty.is_non_null() {
                            problems.push(Problem {
                                path: path.clone(),
                                explanation: "Expected value to not be null".into(),
                            });
                        }
                    }
                }
                path.pop();
            }
            J::Object(out)
        }
        Some(Kind::Enum(values)) => match value.as_str() {
            Some(s) if values.iter().any(|v| v == s) => value.clone(),
            _ => {
                problems.push(Problem {
                    path: path.clone(),
                    explanation: format!("Expected {value} to be one of: {}", values.join(", ")),
                });
                J::Null
            }
        },
        Some(Kind::Scalar) => match name {
            "Int" => match value.as_i64() {
                Some(i) if i32::try_from(i).is_ok() => value.clone(),
                _ => bad(problems, path),
            },
            "Float" => match value.as_f64() {
                Some(f) => J::from(f),
                None => bad(problems, path),
            },
            "Boolean" => {
                if value.is_boolean() {
                    value.clone()
                } else {
                    bad(problems, path)
                }
            }
            "ID" => match value {
                J::String(_) => value.clone(),
                J::Number(n) if n.is_i64() || n.is_u64() => J::String(n.to_string()),
                _ => bad(problems, path),
            },
            "Money" | "Decimal" => match value {
                J::String(s) if s.trim().parse::<f64>().is_ok() => value.clone(),
                J::Number(n) => J::String(n.to_string()),
                _ => bad(problems, path),
            },
            _ => match value {
                J::String(_) => value.clone(),
                _ => bad(problems, path),
            },
        },
        _ => bad(problems, path),
    }
}

/// Converts a literal (with variables substituted) to JSON. `None` when the
/// value is a variable the request did not provide.
pub fn literal_to_json<'a>(v: &Value<'a, &'a str>, vars: &Vars) -> Option<J> {
    Some(match v {
        Value::Variable(name) => return vars.get(*name).cloned(),
        Value::Int(n) => J::from(n.as_i64().unwrap_or_default()),
        Value::Float(f) => J::from(*f),
        Value::String(s) => J::String(s.clone()),
        Value::Boolean(b) => J::Bool(*b),
        Value::Null => J::Null,
        Value::Enum(e) => J::String((*e).to_owned()),
        Value::List(items) => J::Array(
            items
                .iter()
                .map(|i| literal_to_json(i, vars).unwrap_or(J::Null))
                .collect(),
        ),
        Value::Object(fields) => J::Object(
            fields
                .iter()
                .filter_map(|(k, v)| literal_to_json(v, vars).map(|j| ((*k).to_owned(), j)))
                .collect(),
        ),
    })
}

/// Fills input-object defaults and turns ID numbers into strings, so that
/// resolvers see what graphql-ruby would hand them.
fn normalize(value: J, ty: &TypeRef, schema: &Schema) -> J {
    match (ty, value) {
        (_, J::Null) => J::Null,
        (TypeRef::NonNull(inner), v) => normalize(v, inner, schema),
        (TypeRef::List(inner), J::Array(items)) => {
            J::Array(items.into_iter().map(|i| normalize(i, inner, schema)).collect())
        }
        (TypeRef::List(inner), single) => J::Array(vec![normalize(single, inner, schema)]),
        (TypeRef::Named(name), J::Object(mut obj)) => {
            if let Some(def) = schema.get(name) {
                for f in &def.input_fields {
                    match obj.remove(&f.name) {
                        Some(v) => {
                            let n = normalize(v, &f.ty, schema);
                            obj.insert(f.name.clone(), n);
                        }
                        None => {
                            if let Some(d) = &f.default {
                                obj.insert(f.name.clone(), d.clone());
                            }
                        }
                    }
                }
            }
            J::Object(obj)
        }
        (TypeRef::Named(name), J::Number(n)) if name == "ID" => J::String(n.to_string()),
        (_, v) => v,
    }
}

/// The arguments of `field` as JSON: provided ones (variables substituted),
/// then defaults. Absent optional arguments stay absent.
pub fn field_args<'a>(
    field: &Field<'a, &'a str>,
    def: &super::schema::FieldDef,
    vars: &Vars,
    schema: &Schema,
) -> Map<String, J> {
    let mut out = Map::new();
    for arg in &def.args {
        let provided = field
            .arguments
            .iter()
            .find(|(n, _)| *n == arg.name)
            .and_then(|(_, v)| literal_to_json(v, vars));
        match provided {
            Some(v) => {
                out.insert(arg.name.clone(), normalize(v, &arg.ty, schema));
            }
            None => {
                if let Some(d) = &arg.default {
                    out.insert(arg.name.clone(), d.clone());
                }
            }
        }
    }
    out
}

/// What is wrong with a literal argument value.
pub enum LiteralProblem {
    Invalid,
    MissingRequired {
        input_object: String,
        field: String,
        ty: String,
    },
    UnknownField {
        input_object: String,
        field: String,
    },
}

/// Checks a literal against `ty`. Variables inside literals are accepted
/// here (their values were coerced against their own declarations).
pub fn check_literal<'a>(v: &Value<'a, &'a str>, ty: &TypeRef, schema: &Schema) -> Result<(), LiteralProblem> {
    match (ty, v) {
        (_, Value::Variable(_)) => Ok(()),
        (TypeRef::NonNull(_), Value::Null) => Err(LiteralProblem::Invalid),
        (TypeRef::NonNull(inner), v) => check_literal(v, inner, schema),
        (_, Value::Null) => Ok(()),
        (TypeRef::List(inner), Value::List(items)) => items.iter().try_for_each(|i| check_literal(i, inner, schema)),
        (TypeRef::List(inner), single) => check_literal(single, inner, schema),
        (TypeRef::Named(name), v) => match (schema.kind(name), v) {
            (Some(Kind::InputObject), Value::Object(fields)) => {
                let def = schema.get(name).ok_or(LiteralProblem::Invalid)?;
                for key in fields.keys() {
                    if def.input_field(key).is_none() {
                        return Err(LiteralProblem::UnknownField {
                            input_object: name.clone(),
                            field: (*key).to_owned(),
                        });
                    }
                }
                for f in &def.input_fields {
                    match fields.get(f.name.as_str()) {
                        Some(fv) => check_literal(fv, &f.ty, schema)?,
                        None if f.ty.is_non_null() && f.default.is_none() => {
                            return Err(LiteralProblem::MissingRequired {
                                input_object: name.clone(),
                                field: f.name.clone(),
                                ty: f.ty.display(),
                            });
                        }
                        None => {}
                    }
                }
                Ok(())
            }
            (Some(Kind::Enum(values)), Value::Enum(e)) if values.iter().any(|x| x == e) => Ok(()),
            (Some(Kind::Scalar), v) => {
                let ok = match name.as_str() {
                    "Int" => matches!(v, Value::Int(n) if n.as_i64().is_some_and(|i| i32::try_from(i).is_ok())),
                    "Float" => matches!(v, Value::Int(_) | Value::Float(_)),
                    "Boolean" => matches!(v, Value::Boolean(_)),
                    "ID" => matches!(v, Value::String(_) | Value::Int(_)),
                    "Money" | "Decimal" => matches!(v, Value::String(_) | Value::Int(_) | Value::Float(_)),
                    _ => matches!(v, Value::String(_)),
                };
                if ok { Ok(()) } else { Err(LiteralProblem::Invalid) }
            }
            _ => Err(LiteralProblem::Invalid),
        },
    }
}

/// The first input array longer than Shopify allows, as
/// `(path after the field name, length, limit)`.
pub fn oversized_array(field_name: &str, args: &Map<String, J>) -> Option<(Vec<String>, usize, usize)> {
    fn walk(v: &J, path: &mut Vec<String>, field: &str) -> Option<(Vec<String>, usize, usize)> {
        match v {
            J::Array(items) => {
                let limit = if field == "productSet" && path.as_slice() == ["input", "variants"] {
                    2048
                } else {
                    250
                };
                if items.len() > limit {
                    return Some((path.clone(), items.len(), limit));
                }
                items.iter().find_map(|i| walk(i, path, field))
            }
            J::Object(o) => o.iter().find_map(|(k, v)| {
                path.push(k.clone());
                let r = walk(v, path, field);
                path.pop();
                r
            }),
            _ => None,
        }
    }
    let mut path = Vec::new();
    args.iter().find_map(|(k, v)| {
        path.push(k.clone());
        let r = walk(v, &mut path, field_name);
        path.pop();
        r
    })
}
