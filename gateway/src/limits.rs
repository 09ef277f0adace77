//! What one operation may ask for, checked on the parsed document before validation runs.
//!
//! async-graphql's complexity counts every introspection field as 1 and never multiplies its
//! lists, so `{ a1: __schema { types { fields { … } } } a2: __schema { … } … }` passed the limit
//! while answering 60 MB (measured: three such requests in parallel took 2.2 GB). Here:
//! - selections (after inlining fragments) and aliases are counted and capped;
//! - introspection is priced as the values it will answer: each of its lists is multiplied by the
//!   real sizes of this schema (measured once at start: how many types, fields per type, …), and
//!   that price counts in the same complexity budget as the rest of the query.
//!
//! The walk stops as soon as a cap is passed, so a fragment bomb (a fragment spreading another
//! twice, and so on) costs no more than the cap to refuse.
//!
//! The complexity limit itself is [`ComplexityLimit`], run where async-graphql validates: its
//! cost is async-graphql's (each field 1, a connection × its page size) plus introspection's
//! price from here, and a refused query is told both numbers (`extensions.cost`,
//! `extensions.limit`) so a client knows how far over it is.

use async_graphql::{
    Executor, Request,
    parser::types::{
        DocumentOperations, ExecutableDocument, FragmentDefinition, OperationType, Selection,
        SelectionSet,
    },
};
use async_graphql::{
    ServerError, ValidationResult,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextValidation},
};
use ecl_kernel::{AppError, ErrorCode};
use std::{collections::HashMap, sync::Arc};

/// Longest query text. Parsing costs memory in proportion (measured: three parallel 300 kB
/// alias bombs grew the peak RSS by 117 MB before they could be counted and refused); the full
/// introspection query is 1.5 kB, the partner walk 1 kB.
pub const MAX_QUERY_BYTES: usize = 64 * 1024;
/// Most selections one document may hold, fragments inlined (the partner walk has ~60).
pub const MAX_SELECTIONS: usize = 2_000;
/// Most aliased fields in one document (an alias repeats a field: that is how the bomb grew).
pub const MAX_ALIASES: usize = 100;

/// Sizes of this schema's introspection answer: how many values each introspection list holds.
#[derive(Debug, Clone, Copy)]
pub struct IntrospectionSizes {
    pub types: f64,
    pub directives: f64,
    /// Averages over every type (so `types { fields }` is priced exactly: the sum is the total).
    pub fields_per_type: f64,
    pub input_fields_per_type: f64,
    pub enum_values_per_type: f64,
    pub interfaces_per_type: f64,
    pub args_per_field: f64,
    pub args_per_directive: f64,
    pub locations_per_directive: f64,
    /// Maxima, for `__type(name:)`, which can pick the largest type.
    pub max_fields: f64,
    pub max_input_fields: f64,
    pub max_enum_values: f64,
}

impl IntrospectionSizes {
    /// Measures `schema` by introspecting it once (a few hundred values).
    pub async fn measure(schema: &impl Executor) -> IntrospectionSizes {
        const Q: &str = "{ __schema { types { fields(includeDeprecated: true) { args { name } } \
            inputFields { name } enumValues(includeDeprecated: true) { name } interfaces { name } } \
            directives { args { name } locations } } }";
        let data = schema
            .execute(Request::new(Q))
            .await
            .data
            .into_json()
            .unwrap_or_default();
        let len = |v: &serde_json::Value| v.as_array().map_or(0.0, |a| a.len() as f64);
        let types = data["__schema"]["types"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let directives = data["__schema"]["directives"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let n_types = (types.len() as f64).max(1.0);
        let sum = |k: &str| types.iter().map(|t| len(&t[k])).sum::<f64>();
        let max = |k: &str| types.iter().map(|t| len(&t[k])).fold(1.0, f64::max);
        let fields: Vec<&serde_json::Value> = types
            .iter()
            .filter_map(|t| t["fields"].as_array())
            .flatten()
            .collect();
        let n_fields = (fields.len() as f64).max(1.0);
        let n_dirs = (directives.len() as f64).max(1.0);
        IntrospectionSizes {
            types: n_types,
            directives: directives.len() as f64,
            fields_per_type: sum("fields") / n_types,
            input_fields_per_type: sum("inputFields") / n_types,
            enum_values_per_type: sum("enumValues") / n_types,
            interfaces_per_type: sum("interfaces") / n_types,
            args_per_field: fields.iter().map(|f| len(&f["args"])).sum::<f64>() / n_fields,
            args_per_directive: directives.iter().map(|d| len(&d["args"])).sum::<f64>() / n_dirs,
            locations_per_directive: directives.iter().map(|d| len(&d["locations"])).sum::<f64>()
                / n_dirs,
            max_fields: max("fields"),
            max_input_fields: max("inputFields"),
            max_enum_values: max("enumValues"),
        }
    }
}

/// The checks of one gateway process.
#[derive(Debug, Clone, Copy)]
pub struct QueryLimits {
    pub sizes: IntrospectionSizes,
    /// The schema's complexity limit, which introspection now counts in.
    pub max_complexity: usize,
}

/// What a document asks for.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Cost {
    pub selections: usize,
    pub aliases: usize,
    /// Values introspection would answer, plus one per other selection.
    pub complexity: f64,
    /// The part of `complexity` that introspection answers (what async-graphql prices at 1 per
    /// field whatever its lists hold).
    pub introspection: f64,
}

impl QueryLimits {
    /// Parses `request`'s query (kept in it for execution) and checks it: `Err` (INVALID_INPUT,
    /// saying which limit, with the place of a syntax error) when it asks for more than one
    /// operation may.
    pub fn check_request(&self, request: &mut Request) -> Result<Cost, crate::errors::AppErrorAt> {
        let at = |error| crate::errors::AppErrorAt { error, at: None };
        if request.query.len() > MAX_QUERY_BYTES {
            metrics::counter!("ecl_gateway_queries_refused_total").increment(1);
            return Err(at(AppError::new(
                ErrorCode::InvalidInput,
                format!("the query is longer than {MAX_QUERY_BYTES} bytes"),
            )));
        }
        if request.query.trim().is_empty() {
            return Err(at(AppError::new(
                ErrorCode::InvalidInput,
                "the request has no query",
            )));
        }
        let doc = request.parsed_query().map_err(crate::errors::syntax)?;
        self.check(doc).map_err(at)
    }

    /// `Err` (INVALID_INPUT, saying which limit) when `doc` asks for more than one operation may.
    pub fn check(&self, doc: &ExecutableDocument) -> Result<Cost, AppError> {
        let cost = self.cost(doc);
        let refuse = |what: String| {
            metrics::counter!("ecl_gateway_queries_refused_total").increment(1);
            Err(AppError::new(ErrorCode::InvalidInput, what))
        };
        if cost.selections > MAX_SELECTIONS {
            return refuse(format!(
                "the query selects more than {MAX_SELECTIONS} fields (fragments counted where spread)"
            ));
        }
        if cost.aliases > MAX_ALIASES {
            return refuse(format!("the query uses more than {MAX_ALIASES} aliases"));
        }
        Ok(cost)
    }

    /// The cost of every operation of `doc` together (each is validated, whichever runs).
    pub fn cost(&self, doc: &ExecutableDocument) -> Cost {
        let mut w = Walk {
            sizes: &self.sizes,
            fragments: &doc.fragments,
            cost: Cost::default(),
            stack: Vec::new(),
            intro: 0.0,
        };
        let ops: Vec<_> = match &doc.operations {
            DocumentOperations::Single(op) => vec![op],
            DocumentOperations::Multiple(m) => m.values().collect(),
        };
        for op in ops {
            // Only a query's root has the introspection fields.
            let root = match op.node.ty {
                OperationType::Query => Intro::QueryRoot,
                _ => Intro::None,
            };
            w.cost.complexity += w.set(&op.node.selection_set.node, root);
            w.cost.introspection += w.intro;
            w.intro = 0.0;
            if w.over() {
                break;
            }
        }
        w.cost
    }
}

/// Where in the schema a selection set is, as far as introspection pricing goes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Intro {
    /// Not introspection.
    None,
    /// The root of a query: `__schema` and `__type` start introspection.
    QueryRoot,
    Schema,
    /// A `__Type`; `direct` when it is `__type(name:)` itself, which may pick the largest type.
    Type {
        direct: bool,
    },
    Field,
    InputValue,
    EnumValue,
    Directive,
}

struct Walk<'a> {
    sizes: &'a IntrospectionSizes,
    fragments: &'a HashMap<async_graphql::Name, async_graphql::Positioned<FragmentDefinition>>,
    cost: Cost,
    /// Fragments being inlined (a cycle is left to validation to report).
    stack: Vec<&'a str>,
    /// The price of the introspection roots (`__schema`, `__type`) of the current operation.
    intro: f64,
}

impl<'a> Walk<'a> {
    fn over(&self) -> bool {
        self.cost.selections > MAX_SELECTIONS || self.cost.aliases > MAX_ALIASES
    }

    /// The price of one selection set at `at`: the values one instance of it answers.
    fn set(&mut self, set: &'a SelectionSet, at: Intro) -> f64 {
        let mut price = 0.0;
        for item in &set.items {
            if self.over() {
                break;
            }
            match &item.node {
                Selection::Field(f) => {
                    self.cost.selections += 1;
                    if f.node.alias.is_some() {
                        self.cost.aliases += 1;
                    }
                    let (child, times) = self.step(at, f.node.name.node.as_str());
                    let inner = if f.node.selection_set.node.items.is_empty() {
                        0.0
                    } else {
                        self.set(&f.node.selection_set.node, child)
                    };
                    let here = times * (1.0 + inner);
                    if at == Intro::QueryRoot && child != Intro::None {
                        self.intro += here;
                    }
                    price += here;
                }
                Selection::FragmentSpread(s) => {
                    let name = s.node.fragment_name.node.as_str();
                    if self.stack.contains(&name) {
                        continue;
                    }
                    if let Some(def) = self.fragments.get(name) {
                        self.stack.push(name);
                        price += self.set(&def.node.selection_set.node, at);
                        self.stack.pop();
                    }
                }
                Selection::InlineFragment(i) => {
                    price += self.set(&i.node.selection_set.node, at);
                }
            }
        }
        price
    }

    /// Where field `name` at `at` leads, and how many values it answers per instance.
    fn step(&self, at: Intro, name: &str) -> (Intro, f64) {
        let s = self.sizes;
        match (at, name) {
            (_, "__typename") => (Intro::None, 1.0),
            (Intro::None, _) => (Intro::None, 1.0),
            (Intro::QueryRoot, "__schema") => (Intro::Schema, 1.0),
            (Intro::QueryRoot, "__type") => (Intro::Type { direct: true }, 1.0),
            (Intro::QueryRoot, _) => (Intro::None, 1.0),
            (Intro::Schema, "types") => (Intro::Type { direct: false }, s.types),
            (Intro::Schema, "directives") => (Intro::Directive, s.directives),
            (Intro::Schema, _) => (Intro::Type { direct: false }, 1.0),
            (Intro::Type { direct }, "fields") => (
                Intro::Field,
                if direct {
                    s.max_fields
                } else {
                    s.fields_per_type
                },
            ),
            (Intro::Type { direct }, "inputFields") => (
                Intro::InputValue,
                if direct {
                    s.max_input_fields
                } else {
                    s.input_fields_per_type
                },
            ),
            (Intro::Type { direct }, "enumValues") => (
                Intro::EnumValue,
                if direct {
                    s.max_enum_values
                } else {
                    s.enum_values_per_type
                },
            ),
            (Intro::Type { .. }, "interfaces" | "possibleTypes") => (
                Intro::Type { direct: false },
                s.interfaces_per_type.max(1.0),
            ),
            (Intro::Type { .. }, _) => (Intro::Type { direct: false }, 1.0),
            (Intro::Field, "args") => (Intro::InputValue, s.args_per_field),
            (Intro::Field | Intro::InputValue, _) => (Intro::Type { direct: false }, 1.0),
            (Intro::Directive, "args") => (Intro::InputValue, s.args_per_directive),
            (Intro::Directive, "locations") => (Intro::None, s.locations_per_directive),
            (Intro::Directive | Intro::EnumValue, _) => (Intro::None, 1.0),
        }
    }
}

/// The complexity limit, checked where async-graphql validates the operation (it knows each
/// connection's page size there). Needs the request's [`Cost`] in its data (put there by the
/// HTTP and WebSocket edges after [`QueryLimits::check_request`]).
pub struct ComplexityLimit {
    pub limit: usize,
}

impl ExtensionFactory for ComplexityLimit {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ComplexityLimit { limit: self.limit })
    }
}

#[async_trait::async_trait]
impl Extension for ComplexityLimit {
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        let introspection = ctx.data_opt::<Cost>().map_or(0.0, |c| c.introspection);
        let cost = (result.complexity as f64 + introspection).min(1e15);
        if cost > self.limit as f64 {
            metrics::counter!("ecl_gateway_queries_refused_total").increment(1);
            return Err(vec![too_complex(cost as u64, self.limit)]);
        }
        Ok(result)
    }
}

/// The refusal of a query over the limit: how much it costs and what the limit is.
pub fn too_complex(cost: u64, limit: usize) -> ServerError {
    let mut e = ServerError::new(
        format!(
            "the query is too complex (cost {cost}, limit {limit}): each field counts 1, a \
             connection multiplies what it selects by its page size (`first`/`last`, default 20), \
             introspection counts the values it answers; ask for smaller pages or fewer fields"
        ),
        None,
    );
    let ext = e.extensions.get_or_insert_with(Default::default);
    ext.set("code", ErrorCode::InvalidInput.as_str());
    ext.set("cost", cost);
    ext.set("limit", limit as u64);
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    fn limits() -> QueryLimits {
        QueryLimits {
            sizes: IntrospectionSizes {
                types: 80.0,
                directives: 4.0,
                fields_per_type: 6.0,
                input_fields_per_type: 3.0,
                enum_values_per_type: 2.0,
                interfaces_per_type: 0.0,
                args_per_field: 1.0,
                args_per_directive: 1.0,
                locations_per_directive: 3.0,
                max_fields: 60.0,
                max_input_fields: 20.0,
                max_enum_values: 12.0,
            },
            max_complexity: 50_000,
        }
    }

    #[test]
    fn introspection_lists_multiply_by_the_schema_sizes() {
        let doc = parse_query("{ __schema { types { name fields { name } } } }").unwrap();
        let c = limits().cost(&doc);
        // __schema(1) + types 80 × (1 + name 1 + fields 6 × (1 + name 1)).
        assert_eq!(c.complexity, 1.0 + 80.0 * (1.0 + 1.0 + 6.0 * 2.0));
        assert_eq!((c.selections, c.aliases), (5, 0));
    }

    #[test]
    fn nested_introspection_is_priced_as_introspection() {
        let mut q = String::from("fields { name }");
        for _ in 0..5 {
            q = format!("fields {{ type {{ ofType {{ {q} }} }} }}");
        }
        let doc = parse_query(format!("{{ me {{ id }} __schema {{ types {{ {q} }} }} }}")).unwrap();
        let c = limits().cost(&doc);
        assert!(c.introspection > 50_000.0, "{c:?}");
        // `me { id }` is the only part that is not introspection.
        assert_eq!(c.complexity - c.introspection, 2.0);
    }

    #[test]
    fn aliases_and_fragment_bombs_stop_at_the_cap() {
        let many: String = (0..150).map(|i| format!("a{i}: __typename ")).collect();
        let doc = parse_query(format!("{{ {many} }}")).unwrap();
        assert!(
            limits()
                .check(&doc)
                .unwrap_err()
                .message
                .contains("aliases")
        );
        // Each fragment spreads the next twice: 2^30 selections if inlined naively.
        let mut q = String::from("query { ...F0 }\n");
        for i in 0..30 {
            q += &format!("fragment F{i} on Query {{ ...F{} ...F{} }}\n", i + 1, i + 1);
        }
        q += "fragment F30 on Query { __typename }";
        let doc = parse_query(q).unwrap();
        let e = limits().check(&doc).unwrap_err();
        assert!(e.message.contains("selects more than"), "{}", e.message);
    }

    #[test]
    fn the_walk_fits() {
        let doc = parse_query(
            "{ contracts(first: 20) { edges { node { id name children { edges { node { id } } } } } } }",
        )
        .unwrap();
        assert!(limits().check(&doc).is_ok());
    }
}
