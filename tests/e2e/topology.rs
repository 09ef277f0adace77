//! Pins the launcher's table: what `all` and a single target start, and what each needs.

use ecl::targets;
use ecl_runtime::Need;

fn names(list: &[&str]) -> Vec<&'static str> {
    let list: Vec<String> = list.iter().map(|s| s.to_string()).collect();
    targets::resolve(&list)
        .unwrap()
        .iter()
        .map(|m| m.name)
        .collect()
}

#[test]
fn all_starts_every_service_then_the_gateway() {
    assert_eq!(
        names(&["all"]),
        [
            "identity",
            "contract",
            "tenant",
            "metering",
            "billing",
            "notification",
            "sla",
            "gateway"
        ]
    );
}

#[test]
fn a_single_target_starts_only_itself() {
    assert_eq!(names(&["billing"]), ["billing"]);
    assert_eq!(
        names(&["gateway,identity"]),
        ["identity", "gateway"],
        "start order, not argument order"
    );
    assert_eq!(names(&["contract", "contract"]), ["contract"], "each once");
}

#[test]
fn unknown_targets_are_refused_with_the_list() {
    let e = targets::resolve(&["bogus".to_string()]).unwrap_err();
    assert!(
        e.contains("bogus") && e.contains("gateway") && e.contains("all"),
        "{e}"
    );
    assert!(targets::resolve(&[]).is_err());
}

#[test]
fn needs_are_pinned() {
    let needs = |n: &str| {
        targets::modules()
            .into_iter()
            .find(|m| m.name == n)
            .unwrap()
            .needs
            .to_vec()
    };
    assert_eq!(needs("gateway"), [Need::Bus, Need::Cache, Need::Http]);
    assert_eq!(needs("identity"), [Need::Store, Need::Bus, Need::Cache]);
    assert_eq!(needs("contract"), [Need::Store, Need::Bus]);
    assert_eq!(needs("tenant"), [Need::Store, Need::Bus]);
    assert_eq!(needs("notification"), [Need::Store, Need::Bus]);
    let table = targets::describe();
    for m in targets::modules() {
        assert!(table.contains(m.name));
    }
}

#[test]
fn committed_schema_matches_the_code() {
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
        .expect("schema.graphql");
    assert_eq!(
        committed.trim(),
        ecl_gateway::sdl().trim(),
        "run `cargo run -- schema > schema.graphql`"
    );
}
