//! The one table of targets: every module the `ecl` binary can run, what it needs, and the groups
//! (`all`) that expand to real modules. `ecl targets` prints it; tests pin it.

use ecl_runtime::Module;

/// Every module, in start order: services before the gateway, so the gateway never takes a query
/// before the services of its own process can answer.
pub fn modules() -> Vec<Module> {
    vec![
        ecl_identity::module(),
        ecl_contract::module(),
        ecl_tenant::module(),
        ecl_metering::module(),
        ecl_billing::module(),
        ecl_notification::module(),
        ecl_sla::module(),
        ecl_gateway::module(),
    ]
}

/// Grouping targets: a name that stands for several modules.
pub const GROUPS: &[(&str, &[&str])] = &[(
    "all",
    &[
        "identity",
        "contract",
        "tenant",
        "metering",
        "billing",
        "notification",
        "sla",
        "gateway",
    ],
)];

/// Expands a target list (`gateway,identity`, `all`) to the modules to start, in start order,
/// each once. Unknown names are an error listing what exists.
pub fn resolve(targets: &[String]) -> Result<Vec<Module>, String> {
    let all = modules();
    let mut wanted: Vec<&str> = Vec::new();
    for t in targets
        .iter()
        .flat_map(|t| t.split(','))
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        if let Some((_, members)) = GROUPS.iter().find(|(g, _)| *g == t) {
            wanted.extend(members.iter());
        } else if all.iter().any(|m| m.name == t) {
            wanted.push(
                all.iter()
                    .find(|m| m.name == t)
                    .map(|m| m.name)
                    .unwrap_or_default(),
            );
        } else {
            let known: Vec<&str> = GROUPS
                .iter()
                .map(|(g, _)| *g)
                .chain(all.iter().map(|m| m.name))
                .collect();
            return Err(format!(
                "unknown target {t:?}; known targets: {}",
                known.join(", ")
            ));
        }
    }
    if wanted.is_empty() {
        return Err("no target given".into());
    }
    Ok(all
        .into_iter()
        .filter(|m| wanted.contains(&m.name))
        .collect())
}

/// The table as `ecl targets` prints it.
pub fn describe() -> String {
    let mut out = String::from("TARGET        NEEDS                   WHAT\n");
    for m in modules() {
        let needs: Vec<String> = m.needs.iter().map(|n| n.to_string()).collect();
        out.push_str(&format!(
            "{:<13} {:<23} {}\n",
            m.name,
            if needs.is_empty() {
                "-".into()
            } else {
                needs.join(",")
            },
            m.about
        ));
    }
    for (g, members) in GROUPS {
        out.push_str(&format!(
            "{:<13} {:<23} {}\n",
            g,
            "(group)",
            members.join(" + ")
        ));
    }
    out
}
