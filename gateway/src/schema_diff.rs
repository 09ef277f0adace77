//! Breaking changes between two versions of the schema's SDL (`ecl schema --diff OLD NEW`,
//! run by `scripts/schema-diff` in the test command), so that none is ever made by accident.
//!
//! Breaking, for a client that worked against OLD: a removed type, field, argument, input field
//! or enum value; a type that changed kind; a field, argument or input field whose type changed
//! (output made nullable, input made stricter, or another type altogether); a new required
//! argument or input field (no default); a type removed from a union or an interface from an
//! object. Additions and descriptions are not breaking.

use async_graphql::parser::types::{
    BaseType, InputValueDefinition, Type, TypeKind, TypeSystemDefinition,
};
use std::collections::BTreeMap;

/// One breaking change: where (`Type.field(arg:)`) and what.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Breaking {
    /// The schema coordinate (`Bill.contractId`, `Contract.bill(month:)`, `MenuInput.unit`,
    /// `Currency.EUR`): what an acknowledgement names.
    pub coordinate: String,
    pub what: String,
}

impl std::fmt::Display for Breaking {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}`: {}", self.coordinate, self.what)
    }
}

#[derive(Debug)]
enum Def {
    Scalar,
    Object {
        fields: BTreeMap<String, (String, BTreeMap<String, Arg>)>,
        implements: Vec<String>,
    },
    Interface {
        fields: BTreeMap<String, (String, BTreeMap<String, Arg>)>,
    },
    Union(Vec<String>),
    Enum(Vec<String>),
    Input(BTreeMap<String, Arg>),
}

#[derive(Debug)]
struct Arg {
    ty: Type,
    has_default: bool,
}

impl Def {
    fn kind(&self) -> &'static str {
        match self {
            Def::Scalar => "scalar",
            Def::Object { .. } => "object",
            Def::Interface { .. } => "interface",
            Def::Union(_) => "union",
            Def::Enum(_) => "enum",
            Def::Input(_) => "input",
        }
    }
}

fn args(list: Vec<async_graphql::Positioned<InputValueDefinition>>) -> BTreeMap<String, Arg> {
    list.into_iter()
        .map(|a| {
            let a = a.node;
            (
                a.name.node.to_string(),
                Arg {
                    ty: a.ty.node,
                    has_default: a.default_value.is_some(),
                },
            )
        })
        .collect()
}

fn parse(sdl: &str) -> Result<BTreeMap<String, Def>, String> {
    let doc = async_graphql::parser::parse_schema(sdl).map_err(|e| e.to_string())?;
    let mut out = BTreeMap::new();
    for def in doc.definitions {
        let TypeSystemDefinition::Type(t) = def else {
            continue;
        };
        let t = t.node;
        let fields = |fs: Vec<async_graphql::Positioned<_>>| {
            fs.into_iter()
                .map(
                    |f: async_graphql::Positioned<
                        async_graphql::parser::types::FieldDefinition,
                    >| {
                        let f = f.node;
                        (
                            f.name.node.to_string(),
                            (f.ty.node.to_string(), args(f.arguments)),
                        )
                    },
                )
                .collect()
        };
        let d = match t.kind {
            TypeKind::Scalar => Def::Scalar,
            TypeKind::Object(o) => Def::Object {
                fields: fields(o.fields),
                implements: o.implements.iter().map(|i| i.node.to_string()).collect(),
            },
            TypeKind::Interface(i) => Def::Interface {
                fields: fields(i.fields),
            },
            TypeKind::Union(u) => {
                Def::Union(u.members.iter().map(|m| m.node.to_string()).collect())
            }
            TypeKind::Enum(e) => Def::Enum(
                e.values
                    .iter()
                    .map(|v| v.node.value.node.to_string())
                    .collect(),
            ),
            TypeKind::InputObject(i) => Def::Input(args(i.fields)),
        };
        out.insert(t.name.node.to_string(), d);
    }
    Ok(out)
}

/// Whether a value of input type `old` is still accepted where `new` is expected: the same
/// named type, no stricter (`String` → `String!` is breaking, `String!` → `String` is not).
fn input_compatible(old: &Type, new: &Type) -> bool {
    if !old.nullable || new.nullable {
        match (&old.base, &new.base) {
            (BaseType::Named(a), BaseType::Named(b)) => a == b,
            (BaseType::List(a), BaseType::List(b)) => input_compatible(a, b),
            _ => false,
        }
    } else {
        false
    }
}

/// Whether what a field of type `new` answers still fits a client expecting `old`: the same
/// named type, never less strict (`String!` → `String` is breaking).
fn output_compatible(old: &Type, new: &Type) -> bool {
    if old.nullable || !new.nullable {
        match (&old.base, &new.base) {
            (BaseType::Named(a), BaseType::Named(b)) => a == b,
            (BaseType::List(a), BaseType::List(b)) => output_compatible(a, b),
            _ => false,
        }
    } else {
        false
    }
}

fn inputs(
    out: &mut Vec<Breaking>,
    at: &dyn Fn(&str) -> String,
    what: &str,
    old: &BTreeMap<String, Arg>,
    new: &BTreeMap<String, Arg>,
) {
    for (name, o) in old {
        match new.get(name) {
            None => out.push(Breaking {
                coordinate: at(name),
                what: format!("{what} removed"),
            }),
            Some(n) if !input_compatible(&o.ty, &n.ty) => out.push(Breaking {
                coordinate: at(name),
                what: format!("{what} type changed: {} → {}", o.ty, n.ty),
            }),
            Some(_) => {}
        }
    }
    for (name, n) in new {
        if !old.contains_key(name) && !n.ty.nullable && !n.has_default {
            out.push(Breaking {
                coordinate: at(name),
                what: format!("new required {what} ({})", n.ty),
            });
        }
    }
}

fn fields(
    out: &mut Vec<Breaking>,
    ty: &str,
    old: &BTreeMap<String, (String, BTreeMap<String, Arg>)>,
    new: &BTreeMap<String, (String, BTreeMap<String, Arg>)>,
) {
    for (name, (oty, oargs)) in old {
        let coord = format!("{ty}.{name}");
        let Some((nty, nargs)) = new.get(name) else {
            out.push(Breaking {
                coordinate: coord,
                what: "field removed".into(),
            });
            continue;
        };
        let (o, n) = (Type::new(oty), Type::new(nty));
        if !matches!((&o, &n), (Some(o), Some(n)) if output_compatible(o, n)) {
            out.push(Breaking {
                coordinate: coord.clone(),
                what: format!("type changed: {oty} → {nty}"),
            });
        }
        inputs(out, &|a| format!("{coord}({a}:)"), "argument", oargs, nargs);
    }
}

/// Every breaking change from `old` to `new` (both SDL), sorted by coordinate.
pub fn breaking(old: &str, new: &str) -> Result<Vec<Breaking>, String> {
    let (old, new) = (parse(old)?, parse(new)?);
    let mut out = Vec::new();
    for (name, o) in &old {
        let Some(n) = new.get(name) else {
            out.push(Breaking {
                coordinate: name.clone(),
                what: format!("{} removed", o.kind()),
            });
            continue;
        };
        match (o, n) {
            (
                Def::Object {
                    fields: of,
                    implements: oi,
                },
                Def::Object {
                    fields: nf,
                    implements: ni,
                },
            ) => {
                fields(&mut out, name, of, nf);
                for i in oi.iter().filter(|i| !ni.contains(i)) {
                    out.push(Breaking {
                        coordinate: name.clone(),
                        what: format!("no longer implements {i}"),
                    });
                }
            }
            (Def::Interface { fields: of }, Def::Interface { fields: nf }) => {
                fields(&mut out, name, of, nf)
            }
            (Def::Union(om), Def::Union(nm)) => {
                for m in om.iter().filter(|m| !nm.contains(m)) {
                    out.push(Breaking {
                        coordinate: name.clone(),
                        what: format!("member {m} removed"),
                    });
                }
            }
            (Def::Enum(ov), Def::Enum(nv)) => {
                for v in ov.iter().filter(|v| !nv.contains(v)) {
                    out.push(Breaking {
                        coordinate: format!("{name}.{v}"),
                        what: "enum value removed".into(),
                    });
                }
            }
            (Def::Input(of), Def::Input(nf)) => {
                inputs(&mut out, &|f| format!("{name}.{f}"), "input field", of, nf)
            }
            (Def::Scalar, Def::Scalar) => {}
            (o, n) => out.push(Breaking {
                coordinate: name.clone(),
                what: format!("kind changed: {} → {}", o.kind(), n.kind()),
            }),
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = r#"
        type Query { bill(month: String!): Bill  menus(first: Int): [Menu!]! }
        type Bill { contractId: String! total: String! lines: [String!]! }
        type Menu { code: String! unit: String! }
        input MenuInput { code: String! unit: String! note: String }
        enum Status { ESTIMATED FIXED }
    "#;

    fn changes(new: &str) -> Vec<String> {
        breaking(OLD, new)
            .unwrap()
            .into_iter()
            .map(|b| b.to_string())
            .collect()
    }

    #[test]
    fn the_same_schema_and_additions_break_nothing() {
        assert!(changes(OLD).is_empty());
        let more = r#"
            type Query { bill(month: String!, day: Int): Bill  menus(first: Int, last: Int): [Menu!]!  node(id: ID!): Menu }
            type Bill { contractId: String! total: String! lines: [String!]! id: ID! }
            type Menu { code: String! unit: String! }
            input MenuInput { code: String! unit: String! note: String extra: Int = 1 }
            enum Status { ESTIMATED FIXED VOID }
            scalar Decimal
        "#;
        assert_eq!(changes(more), Vec::<String>::new());
    }

    #[test]
    fn removals_type_changes_and_new_required_inputs_are_listed() {
        let new = r#"
            type Query { bill(month: Month!, force: Boolean!): Bill  menus(first: Int): [Menu!] }
            type Bill { contractId: ID! total: String! lines: [String]! }
            type Menu { code: String! }
            input MenuInput { code: String! unit: Unit! note: String! }
            enum Status { ESTIMATED }
            scalar Month
            enum Unit { HOUR }
        "#;
        assert_eq!(
            changes(new),
            [
                "`Bill.contractId`: type changed: String! → ID!",
                "`Bill.lines`: type changed: [String!]! → [String]!",
                "`Menu.unit`: field removed",
                "`MenuInput.note`: input field type changed: String → String!",
                "`MenuInput.unit`: input field type changed: String! → Unit!",
                "`Query.bill(force:)`: new required argument (Boolean!)",
                "`Query.bill(month:)`: argument type changed: String! → Month!",
                "`Query.menus`: type changed: [Menu!]! → [Menu!]",
                "`Status.FIXED`: enum value removed",
            ]
        );
    }

    #[test]
    fn looser_inputs_and_stricter_outputs_are_compatible() {
        let new = r#"
            type Query { bill(month: String): Bill!  menus(first: Int): [Menu!]! }
            type Bill { contractId: String! total: String! lines: [String!]! }
            type Menu { code: String! unit: String! }
            input MenuInput { code: String unit: String! note: String }
            enum Status { ESTIMATED FIXED }
        "#;
        assert!(changes(new).is_empty(), "{:?}", changes(new));
    }
}
