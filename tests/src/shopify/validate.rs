//! Static validation of a query document against the served schema, with
//! graphql-ruby's messages and codes (Shopify answers these with HTTP 200,
//! `errors` only: no `data`, no cost).

use std::collections::{HashMap, HashSet};

use graphql_parser::query::{Directive, FragmentDefinition, Selection, SelectionSet, TypeCondition, Value};

use super::input::{LiteralProblem, check_literal};
use super::json::{OVal, gql_error};
use super::schema::{Kind, Schema};

pub type Fragments<'q> = HashMap<&'q str, &'q FragmentDefinition<'q, &'q str>>;

pub struct Validator<'s, 'q> {
    schema: &'s Schema,
    fragments: &'q Fragments<'q>,
    pub errors: Vec<OVal>,
    used_vars: Vec<(&'q str, graphql_parser::Pos)>,
    head: String,
}

impl<'s, 'q> Validator<'s, 'q> {
    pub fn new(schema: &'s Schema, fragments: &'q Fragments<'q>) -> Self {
        Validator {
            schema,
            fragments,
            errors: Vec::new(),
            used_vars: Vec::new(),
            head: String::new(),
        }
    }

    /// Validates an operation (`head` is "query Name", "mutation", ...), the
    /// fragments it may spread, and its variable usage.
    pub fn operation(
        &mut self,
        head: String,
        root: &str,
        set: &'q SelectionSet<'q, &'q str>,
        declared: &[(&'q str, graphql_parser::Pos)],
    ) {
        self.head = head.clone();
        let mut path = Vec::new();
        self.selection(root, set, &mut path);
        let mut names: Vec<&&'q str> = self.fragments.keys().collect();
        names.sort();
        for name in names {
            let frag = self.fragments[*name];
            let TypeCondition::On(cond) = &frag.type_condition;
            self.head = format!("fragment {name}");
            if !self.schema.is_composite(cond) {
                self.errors.push(gql_error(
                    format!("No such type {cond}, so it can't be a fragment condition"),
                    &[frag.position],
                    Some(vec![OVal::str(self.head.clone())]),
                    OVal::obj([("code", OVal::str("undefinedType")), ("typeName", OVal::str(*cond))]),
                ));
                continue;
            }
            let mut path = Vec::new();
            self.selection(cond, &frag.selection_set, &mut path);
        }
        self.head = head;
        let declared_names: HashSet<&str> = declared.iter().map(|(n, _)| *n).collect();
        let used: HashSet<&str> = self.used_vars.iter().map(|(n, _)| *n).collect();
        let op_name = self.head.clone();
        for (name, pos) in std::mem::take(&mut self.used_vars) {
            if !declared_names.contains(name) {
                self.errors.push(gql_error(
                    format!("Variable ${name} is used by {op_name} but not declared"),
                    &[pos],
                    Some(vec![OVal::str(op_name.clone())]),
                    OVal::obj([
                        ("code", OVal::str("variableNotDefined")),
                        ("variableName", OVal::str(name)),
                    ]),
                ));
            }
        }
        for (name, pos) in declared {
            if !used.contains(name) {
                self.errors.push(gql_error(
                    format!("Variable ${name} is declared by {op_name} but not used"),
                    &[*pos],
                    Some(vec![OVal::str(op_name.clone())]),
                    OVal::obj([
                        ("code", OVal::str("variableNotUsed")),
                        ("variableName", OVal::str(*name)),
                    ]),
                ));
            }
        }
    }

    fn path_val(&self, path: &[String], extra: &[&str]) -> Vec<OVal> {
        let mut p = vec![OVal::str(self.head.clone())];
        p.extend(path.iter().map(|s| OVal::str(s.clone())));
        p.extend(extra.iter().map(|s| OVal::str(*s)));
        p
    }

    fn note_vars(&mut self, v: &'q Value<'q, &'q str>, pos: graphql_parser::Pos) {
        match v {
            Value::Variable(name) => self.used_vars.push((name, pos)),
            Value::List(items) => items.iter().for_each(|i| self.note_vars(i, pos)),
            Value::Object(fields) => fields.values().for_each(|i| self.note_vars(i, pos)),
            _ => {}
        }
    }

    fn directives(&mut self, dirs: &'q [Directive<'q, &'q str>], path: &[String]) {
        for d in dirs {
            for (_, v) in &d.arguments {
                self.note_vars(v, d.position);
            }
            let required: &[&str] = match d.name {
                "include" | "skip" => &["if"],
                "idempotent" if self.schema.has_idempotent_directive => &["key"],
                _ => {
                    self.errors.push(gql_error(
                        format!("Directive @{} is not defined", d.name),
                        &[d.position],
                        Some(self.path_val(path, &[])),
                        OVal::obj([
                            ("code", OVal::str("undefinedDirective")),
                            ("directiveName", OVal::str(d.name)),
                        ]),
                    ));
                    continue;
                }
            };
            let missing: Vec<&str> = required
                .iter()
                .filter(|r| !d.arguments.iter().any(|(n, _)| n == *r))
                .copied()
                .collect();
            if !missing.is_empty() {
                self.errors.push(gql_error(
                    format!(
                        "Directive '{}' is missing required arguments: {}",
                        d.name,
                        missing.join(", ")
                    ),
                    &[d.position],
                    Some(self.path_val(path, &[])),
                    OVal::obj([
                        ("code", OVal::str("missingRequiredArguments")),
                        ("className", OVal::str("Directive")),
                        ("name", OVal::str(d.name)),
                        ("arguments", OVal::str(missing.join(", "))),
                    ]),
                ));
            }
        }
    }

    fn selection(&mut self, parent: &str, set: &'q SelectionSet<'q, &'q str>, path: &mut Vec<String>) {
        for sel in &set.items {
            match sel {
                Selection::Field(f) => {
                    path.push(f.name.to_owned());
                    self.directives(&f.directives, path);
                    self.field(parent, f, path);
                    path.pop();
                }
                Selection::InlineFragment(frag) => {
                    self.directives(&frag.directives, path);
                    let cond = match &frag.type_condition {
                        Some(TypeCondition::On(c)) => *c,
                        None => parent,
                    };
                    if !self.schema.is_composite(cond) {
                        self.errors.push(gql_error(
                            format!("No such type {cond}, so it can't be a fragment condition"),
                            &[frag.position],
                            Some(self.path_val(path, &[])),
                            OVal::obj([("code", OVal::str("undefinedType")), ("typeName", OVal::str(cond))]),
                        ));
                        continue;
                    }
                    path.push(format!("... on {cond}"));
                    self.selection(cond, &frag.selection_set, path);
                    path.pop();
                }
                Selection::FragmentSpread(spread) => {
                    self.directives(&spread.directives, path);
                    if !self.fragments.contains_key(spread.fragment_name) {
                        self.errors.push(gql_error(
                            format!("Fragment {} was used, but not defined", spread.fragment_name),
                            &[spread.position],
                            Some(self.path_val(path, &[])),
                            OVal::obj([
                                ("code", OVal::str("useAndDefineFragment")),
                                ("fragmentName", OVal::str(spread.fragment_name)),
                            ]),
                        ));
                    }
                }
            }
        }
    }

    fn field(&mut self, parent: &str, f: &'q graphql_parser::query::Field<'q, &'q str>, path: &[String]) {
        for (_, v) in &f.arguments {
            self.note_vars(v, f.position);
        }
        if f.name == "__typename" {
            return;
        }
        let Some(def) = self.schema.field(parent, f.name) else {
            self.errors.push(gql_error(
                format!("Field '{}' doesn't exist on type '{parent}'", f.name),
                &[f.position],
                Some(self.path_val(path, &[])),
                OVal::obj([
                    ("code", OVal::str("undefinedField")),
                    ("typeName", OVal::str(parent)),
                    ("fieldName", OVal::str(f.name)),
                ]),
            ));
            return;
        };
        for (name, value) in &f.arguments {
            let Some(arg) = def.arg(name) else {
                self.errors.push(gql_error(
                    format!("Field '{}' doesn't accept argument '{name}'", f.name),
                    &[f.position],
                    Some(self.path_val(path, &[name])),
                    OVal::obj([
                        ("code", OVal::str("argumentNotAccepted")),
                        ("name", OVal::str(f.name)),
                        ("typeName", OVal::str("Field")),
                        ("argumentName", OVal::str(*name)),
                    ]),
                ));
                continue;
            };
            match check_literal(value, &arg.ty, self.schema) {
                Ok(()) => {}
                Err(LiteralProblem::Invalid) => self.errors.push(gql_error(
                    format!(
                        "Argument '{name}' on Field '{}' has an invalid value ({value}). Expected type '{}'.",
                        f.name,
                        arg.ty.display()
                    ),
                    &[f.position],
                    Some(self.path_val(path, &[name])),
                    OVal::obj([
                        ("code", OVal::str("argumentLiteralsIncompatible")),
                        ("typeName", OVal::str("Field")),
                        ("argumentName", OVal::str(*name)),
                    ]),
                )),
                Err(LiteralProblem::MissingRequired {
                    input_object,
                    field,
                    ty,
                }) => self.errors.push(gql_error(
                    format!("Argument '{field}' on InputObject '{input_object}' is required. Expected type {ty}"),
                    &[f.position],
                    Some(self.path_val(path, &[name, &field])),
                    OVal::obj([
                        ("code", OVal::str("missingRequiredInputObjectAttribute")),
                        ("argumentName", OVal::str(field.clone())),
                        ("argumentType", OVal::str(ty.clone())),
                        ("inputObjectType", OVal::str(input_object.clone())),
                    ]),
                )),
                Err(LiteralProblem::UnknownField { input_object, field }) => self.errors.push(gql_error(
                    format!("InputObject '{input_object}' doesn't accept argument '{field}'"),
                    &[f.position],
                    Some(self.path_val(path, &[name, &field])),
                    OVal::obj([
                        ("code", OVal::str("argumentNotAccepted")),
                        ("name", OVal::str(input_object.clone())),
                        ("typeName", OVal::str("InputObject")),
                        ("argumentName", OVal::str(field.clone())),
                    ]),
                )),
            }
        }
        let missing: Vec<&str> = def
            .args
            .iter()
            .filter(|a| a.ty.is_non_null() && a.default.is_none())
            .filter(|a| !f.arguments.iter().any(|(n, _)| *n == a.name))
            .map(|a| a.name.as_str())
            .collect();
        if !missing.is_empty() {
            self.errors.push(gql_error(
                format!(
                    "Field '{}' is missing required arguments: {}",
                    f.name,
                    missing.join(", ")
                ),
                &[f.position],
                Some(self.path_val(path, &[])),
                OVal::obj([
                    ("code", OVal::str("missingRequiredArguments")),
                    ("className", OVal::str("Field")),
                    ("name", OVal::str(f.name)),
                    ("arguments", OVal::str(missing.join(", "))),
                ]),
            ));
        }
        let ret = def.ty.named();
        let ret_kind = self.schema.kind(ret).cloned();
        let has_selection = !f.selection_set.items.is_empty();
        match ret_kind {
            Some(Kind::Object | Kind::Interface) => {
                if has_selection {
                    let mut p = path.to_vec();
                    self.selection(ret, &f.selection_set, &mut p);
                } else {
                    self.errors.push(gql_error(
                        format!(
                            "Field must have selections (field '{}' returns {} but has no selections. Did you mean '{} {{ ... }}'?)",
                            f.name, ret, f.name
                        ),
                        &[f.position],
                        Some(self.path_val(path, &[])),
                        OVal::obj([
                            ("code", OVal::str("selectionMismatch")),
                            ("nodeName", OVal::str(format!("field '{}'", f.name))),
                            ("typeName", OVal::str(ret)),
                        ]),
                    ));
                }
            }
            Some(kind) if has_selection => {
                let what = if matches!(kind, Kind::Enum(_)) {
                    "enums"
                } else {
                    "scalars"
                };
                let names: Vec<String> = f
                    .selection_set
                    .items
                    .iter()
                    .filter_map(|s| match s {
                        Selection::Field(sf) => Some(sf.name.to_owned()),
                        _ => None,
                    })
                    .collect();
                self.errors.push(gql_error(
                    format!(
                        "Selections can't be made on {what} (field '{}' returns {} but has selections [{}])",
                        f.name,
                        ret,
                        names.join(", ")
                    ),
                    &[f.position],
                    Some(self.path_val(path, &[])),
                    OVal::obj([
                        ("code", OVal::str("selectionMismatch")),
                        ("nodeName", OVal::str(format!("field '{}'", f.name))),
                        ("typeName", OVal::str(ret)),
                    ]),
                ));
            }
            _ => {}
        }
    }
}
