//! Field errors as the GraphQL spec says (§6.4.4, "Handling Field Errors"): the field that
//! failed is `null` in `data`, and when its type is non-null the null moves up to the nearest
//! nullable parent (or `data` itself).
//!
//! Why this exists: async-graphql 7 drops a failed field's key from its object instead (its
//! container resolver collects `(name, value)` for the fields that succeeded and only records
//! the others' errors), and turns an object whose every field failed into `null` — so a failed
//! `Contract.bill` left no `bill` key at all, and `{ contract { bill } }` answered
//! `contract: null`. This pass runs only when an operation has field errors: it reads the
//! document for the response keys along each error's path and the schema for their types, then
//! writes the nulls the spec asks for, keys in selection order.

use async_graphql::{
    Name, PathSegment, Response, Value,
    indexmap::IndexMap,
    parser::types::{
        BaseType, DocumentOperations, ExecutableDocument, FragmentDefinition, OperationType,
        Selection, SelectionSet, Type, TypeKind, TypeSystemDefinition,
    },
};
use std::collections::HashMap;

/// The introspection types (spec §4.5), which the printed SDL leaves out.
const INTROSPECTION_SDL: &str = r#"
type __Schema { description: String types: [__Type!]! queryType: __Type! mutationType: __Type
  subscriptionType: __Type directives: [__Directive!]! }
type __Type { kind: __TypeKind! name: String description: String specifiedByURL: String
  fields(includeDeprecated: Boolean): [__Field!] interfaces: [__Type!] possibleTypes: [__Type!]
  enumValues(includeDeprecated: Boolean): [__EnumValue!] inputFields(includeDeprecated: Boolean): [__InputValue!]
  ofType: __Type isOneOf: Boolean }
type __Field { name: String! description: String args(includeDeprecated: Boolean): [__InputValue!]!
  type: __Type! isDeprecated: Boolean! deprecationReason: String }
type __InputValue { name: String! description: String type: __Type! defaultValue: String
  isDeprecated: Boolean! deprecationReason: String }
type __EnumValue { name: String! description: String isDeprecated: Boolean! deprecationReason: String }
type __Directive { name: String! description: String locations: [__DirectiveLocation!]!
  args(includeDeprecated: Boolean): [__InputValue!]! isRepeatable: Boolean! }
"#;

/// Output field types by object type, from the schema's SDL.
pub struct Types {
    fields: HashMap<String, HashMap<String, Type>>,
    query: String,
    mutation: String,
    subscription: String,
}

impl Types {
    pub fn from_sdl(sdl: &str) -> Types {
        let mut t = Types {
            fields: HashMap::new(),
            query: "Query".into(),
            mutation: "Mutation".into(),
            subscription: "Subscription".into(),
        };
        for src in [sdl, INTROSPECTION_SDL] {
            let Ok(doc) = async_graphql::parser::parse_schema(src) else {
                continue;
            };
            for def in doc.definitions {
                match def {
                    TypeSystemDefinition::Schema(s) => {
                        let s = s.node;
                        if let Some(q) = s.query {
                            t.query = q.node.to_string();
                        }
                        if let Some(m) = s.mutation {
                            t.mutation = m.node.to_string();
                        }
                        if let Some(sub) = s.subscription {
                            t.subscription = sub.node.to_string();
                        }
                    }
                    TypeSystemDefinition::Type(ty) => {
                        let ty = ty.node;
                        let fields = match ty.kind {
                            TypeKind::Object(o) => o.fields,
                            TypeKind::Interface(i) => i.fields,
                            _ => continue,
                        };
                        t.fields
                            .entry(ty.name.node.to_string())
                            .or_default()
                            .extend(
                                fields
                                    .into_iter()
                                    .map(|f| (f.node.name.node.to_string(), f.node.ty.node)),
                            );
                    }
                    TypeSystemDefinition::Directive(_) => {}
                }
            }
        }
        let q = t.query.clone();
        let root = t.fields.entry(q).or_default();
        root.insert("__schema".into(), Type::new("__Schema!").expect("type"));
        root.insert("__type".into(), Type::new("__Type").expect("type"));
        t
    }

    fn field(&self, parent: &str, name: &str) -> Option<Type> {
        if name == "__typename" {
            return Type::new("String!");
        }
        self.fields.get(parent)?.get(name).cloned()
    }
}

/// Rewrites `resp.data` so every field error leaves a `null` where the spec puts it.
pub fn propagate(types: &Types, doc: &ExecutableDocument, op: Option<&str>, resp: &mut Response) {
    if resp.errors.iter().all(|e| e.path.is_empty()) {
        return;
    }
    let operation = match (&doc.operations, op) {
        (DocumentOperations::Single(o), _) => o,
        (DocumentOperations::Multiple(m), Some(name)) => match m.get(name) {
            Some(o) => o,
            None => return,
        },
        (DocumentOperations::Multiple(m), None) if m.len() == 1 => {
            m.values().next().expect("one operation")
        }
        _ => return,
    };
    let root = match operation.node.ty {
        OperationType::Query => &types.query,
        OperationType::Mutation => &types.mutation,
        OperationType::Subscription => &types.subscription,
    };
    let ctx = Doc {
        types,
        fragments: &doc.fragments,
    };
    let mut nulled: Vec<Vec<PathSegment>> = Vec::new();
    let paths: Vec<Vec<PathSegment>> = resp
        .errors
        .iter()
        .filter(|e| !e.path.is_empty())
        .map(|e| e.path.clone())
        .collect();
    for path in paths {
        if nulled.iter().any(|n| path.starts_with(n)) {
            continue; // an earlier error already nulled this part of the answer
        }
        let steps = ctx.resolve(root, &operation.node.selection_set.node, &path);
        // The deepest position whose type is nullable takes the null.
        let mut k = path.len();
        while k > 0 && !steps[k - 1].nullable {
            k -= 1;
        }
        if k == 0 {
            resp.data = Value::Null;
            return;
        }
        if !matches!(resp.data, Value::Object(_)) {
            // Every root field failed: async-graphql answered `null` for the root object.
            resp.data = Value::Object(IndexMap::new());
        }
        set_null(&mut resp.data, &path[..k], &steps[..k]);
        nulled.push(path[..k].to_vec());
    }
}

/// What the document and schema say about one position of a path.
struct Step<'a> {
    nullable: bool,
    /// For a field: the response keys of its parent's selection, in order.
    siblings: Vec<&'a str>,
}

struct Doc<'a> {
    types: &'a Types,
    fragments: &'a HashMap<Name, async_graphql::Positioned<FragmentDefinition>>,
}

impl<'a> Doc<'a> {
    /// One step per path segment. Positions the document or schema cannot explain count as
    /// nullable, so the null then lands on the error's own field.
    fn resolve(&self, root: &str, set: &'a SelectionSet, path: &[PathSegment]) -> Vec<Step<'a>> {
        let mut out = Vec::with_capacity(path.len());
        let mut ty: Option<Type> = Type::new(&format!("{root}!"));
        let mut sets: Vec<&'a SelectionSet> = vec![set];
        for seg in path {
            let (next, siblings) = match (seg, ty.as_ref().map(|t| &t.base)) {
                (PathSegment::Field(key), Some(BaseType::Named(parent))) => {
                    let mut fields = Vec::new();
                    let mut siblings = Vec::new();
                    for s in &sets {
                        self.collect(s, key, &mut fields, &mut siblings, &mut Vec::new());
                    }
                    let next = fields
                        .first()
                        .and_then(|f| self.types.field(parent, f.name.node.as_str()));
                    sets = fields.iter().map(|f| &f.selection_set.node).collect();
                    (next, siblings)
                }
                (PathSegment::Index(_), Some(BaseType::List(inner))) => {
                    (Some((**inner).clone()), Vec::new())
                }
                _ => (None, Vec::new()),
            };
            out.push(Step {
                nullable: next.as_ref().is_none_or(|t| t.nullable),
                siblings,
            });
            ty = next;
        }
        out
    }

    /// The fields of `set` (fragments inlined) answering under `key`, and every response key
    /// of `set` in order.
    fn collect(
        &self,
        set: &'a SelectionSet,
        key: &str,
        fields: &mut Vec<&'a async_graphql::parser::types::Field>,
        keys: &mut Vec<&'a str>,
        stack: &mut Vec<&'a str>,
    ) {
        for item in &set.items {
            match &item.node {
                Selection::Field(f) => {
                    let k = f.node.response_key().node.as_str();
                    if !keys.contains(&k) {
                        keys.push(k);
                    }
                    if k == key {
                        fields.push(&f.node);
                    }
                }
                Selection::FragmentSpread(s) => {
                    let name = s.node.fragment_name.node.as_str();
                    if stack.contains(&name) {
                        continue;
                    }
                    if let Some(def) = self.fragments.get(name) {
                        stack.push(name);
                        self.collect(&def.node.selection_set.node, key, fields, keys, stack);
                        stack.pop();
                    }
                }
                Selection::InlineFragment(i) => {
                    self.collect(&i.node.selection_set.node, key, fields, keys, stack)
                }
            }
        }
    }
}

/// Writes `null` at `path` (its last segment), creating the key in selection order when the
/// failed field left none. An object async-graphql collapsed to `null` because all its fields
/// failed is an object again.
fn set_null(data: &mut Value, path: &[PathSegment], steps: &[Step<'_>]) {
    let mut cur = data;
    for (i, seg) in path.iter().enumerate() {
        let last = i + 1 == path.len();
        match seg {
            PathSegment::Field(key) => {
                if matches!(cur, Value::Null) {
                    *cur = Value::Object(IndexMap::new());
                }
                let Value::Object(map) = cur else { return };
                let name = Name::new(key);
                if !map.contains_key(&name) {
                    let order = &steps[i].siblings;
                    let rank = |k: &str| order.iter().position(|o| *o == k).unwrap_or(usize::MAX);
                    let mine = rank(key);
                    let at = map.keys().filter(|k| rank(k.as_str()) < mine).count();
                    map.shift_insert(at, name.clone(), Value::Null);
                }
                let v = map.get_mut(&name).expect("inserted");
                if last {
                    *v = Value::Null;
                    return;
                }
                cur = v;
            }
            PathSegment::Index(idx) => {
                let Value::List(items) = cur else { return };
                let Some(v) = items.get_mut(*idx) else { return };
                if last {
                    *v = Value::Null;
                    return;
                }
                cur = v;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::{ServerError, parser::parse_query};

    const SDL: &str = "type Query { contract(id: ID!): Contract contracts: [Contract!]! }
        type Contract { id: ID! name: String! bill: Bill owner: User! }
        type Bill { total: String! }
        type User { id: ID! }
        type Mutation { signIn: Payload! }
        type Payload { token: String }";

    fn run(query: &str, data: serde_json::Value, errors: &[&[PathSegment]]) -> serde_json::Value {
        let types = Types::from_sdl(SDL);
        let doc = parse_query(query).unwrap();
        let mut resp = Response::new(Value::from_json(data).unwrap());
        for p in errors {
            let mut e = ServerError::new("boom", None);
            e.path = p.to_vec();
            resp.errors.push(e);
        }
        propagate(&types, &doc, None, &mut resp);
        // Through the response's own serializer: it keeps key order (serde_json's map sorts).
        serde_json::from_str(&serde_json::to_string(&resp.data).unwrap()).unwrap()
    }

    fn ordered(query: &str, data: serde_json::Value, errors: &[&[PathSegment]]) -> String {
        let types = Types::from_sdl(SDL);
        let doc = parse_query(query).unwrap();
        let mut resp = Response::new(Value::from_json(data).unwrap());
        for p in errors {
            let mut e = ServerError::new("boom", None);
            e.path = p.to_vec();
            resp.errors.push(e);
        }
        propagate(&types, &doc, None, &mut resp);
        serde_json::to_string(&resp.data).unwrap()
    }

    fn f(s: &str) -> PathSegment {
        PathSegment::Field(s.into())
    }

    #[test]
    fn a_failed_nullable_field_is_null_in_place() {
        let out = ordered(
            "{ contract(id: 1) { id bill { total } name } }",
            serde_json::json!({"contract": {"id": "1", "name": "A"}}),
            &[&[f("contract"), f("bill")]],
        );
        assert_eq!(out, r#"{"contract":{"id":"1","bill":null,"name":"A"}}"#);
    }

    #[test]
    fn an_object_whose_only_field_failed_stays_an_object() {
        let out = run(
            "{ c: contract(id: 1) { bill { total } } }",
            serde_json::json!({"c": null}),
            &[&[f("c"), f("bill")]],
        );
        assert_eq!(out, serde_json::json!({"c": {"bill": null}}));
    }

    #[test]
    fn non_null_failures_null_the_nearest_nullable_parent() {
        let out = run(
            "{ contract(id: 1) { id owner { id } } }",
            serde_json::json!({"contract": {"id": "1"}}),
            &[&[f("contract"), f("owner")]],
        );
        assert_eq!(out, serde_json::json!({"contract": null}));
        // In a list of non-null items, the whole list goes, and with it `data` (non-null root).
        let out = run(
            "{ contracts { ...F } } fragment F on Contract { id name }",
            serde_json::json!({"contracts": [{"id": "1", "name": "A"}, {"id": "2"}]}),
            &[&[f("contracts"), PathSegment::Index(1), f("name")]],
        );
        assert_eq!(out, serde_json::Value::Null);
        let out = run(
            "mutation { signIn { token } }",
            serde_json::Value::Null,
            &[&[f("signIn")]],
        );
        assert_eq!(out, serde_json::Value::Null);
    }
}
