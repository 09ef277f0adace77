//! Who receives a notice — the seeds' table (000 / 001 "Notification settings management",
//! "About failure / maintenance notification") as one pure function over the data the audience
//! requests gathered:
//!
//! | category | affects a parent's tenant | affects a child's tenant | both |
//! | --- | --- | --- | --- |
//! | `RELEASE` | owner + all users | owner + all users | owner + all users |
//! | `FAILURE`, `MAINTENANCE` | owner, admins, users with access to the tenant | the child's owner, admins and users with access, the parent's admins in CC | both sides |
//!
//! then each user's opt-outs (a contract owner's `FAILURE` cannot be opted out of) and the
//! partner's suppression of a category for a child (it silences the child's users, never the
//! partner's own). `CONTRACT_FEE` goes to each contract's contact person instead of users.
//!
//! Decisions where the seeds are silent: the parent's owner is copied like its admins (the owner
//! is the contract's first administrator); a parent user assigned to contract groups is copied
//! only on the children of those groups (the ones they manage); anyone else granted access to an
//! affected tenant (a parent user working in a child's tenant) receives it as a user with access.

use ecl_kernel::Role;
use ecl_proto::{
    contract::{AudienceContract, ContractStatus},
    identity::UserView,
    notification::Category,
    tenant::TenantAudience,
};
use std::collections::{BTreeMap, HashMap, HashSet};

/// What a notice concerns, validated.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub all: bool,
    pub contract_ids: Vec<String>,
    pub tenant_ids: Vec<String>,
}

/// Everything the recipients are computed from.
#[derive(Debug, Default)]
pub struct Audience {
    pub contracts: Vec<AudienceContract>,
    /// Failure / maintenance: the affected tenants with their grants.
    pub tenants: Vec<TenantAudience>,
    /// Users of the affected contracts and of their parents.
    pub members: Vec<UserView>,
    /// `(user, category)` opt-outs of those users.
    pub opt_outs: HashSet<(String, Category)>,
    /// `(child contract, category)` suppressions.
    pub suppressed: HashSet<(String, Category)>,
}

/// One mail to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// Unique within the notice: the user id, or `contact:<contract>`.
    pub key: String,
    pub user_id: Option<String>,
    pub contract_id: String,
    pub address: String,
    /// Copied as the partner's admin on a child's failure or maintenance.
    pub cc: bool,
}

pub fn resolve(category: Category, scope: &Scope, a: &Audience) -> Vec<Recipient> {
    let contracts: HashMap<&str, &AudienceContract> = a
        .contracts
        .iter()
        .filter(|c| c.status == ContractStatus::Active)
        .map(|c| (c.id.as_str(), c))
        .collect();
    // The contracts the notice affects (not the parents merely fetched for the CC).
    let mut affected: Vec<&str> = if scope.all {
        a.contracts
            .iter()
            .filter(|c| c.status == ContractStatus::Active)
            .map(|c| c.id.as_str())
            .collect()
    } else {
        scope.contract_ids.iter().map(String::as_str).collect()
    };
    let mut tenants_of: HashMap<&str, Vec<&TenantAudience>> = HashMap::new();
    for t in &a.tenants {
        tenants_of
            .entry(t.contract_id.as_str())
            .or_default()
            .push(t);
    }
    if category.by_tenant() {
        affected.extend(tenants_of.keys().copied());
    } else {
        affected.extend(
            a.tenants
                .iter()
                .filter(|t| scope.tenant_ids.contains(&t.tenant_id))
                .map(|t| t.contract_id.as_str()),
        );
    }
    affected.sort_unstable();
    affected.dedup();
    affected.retain(|c| contracts.contains_key(c));

    let mut members_of: HashMap<&str, Vec<&UserView>> = HashMap::new();
    let mut users: HashMap<&str, &UserView> = HashMap::new();
    for u in &a.members {
        if let Some(c) = u.contract_id.as_deref() {
            members_of.entry(c).or_default().push(u);
        }
        users.insert(u.id.as_str(), u);
    }

    // Ordered by key so the delivery log and tests see a stable order.
    let mut out: BTreeMap<String, Recipient> = BTreeMap::new();
    let mut add = |u: &UserView, cc: bool| {
        let Some(contract_id) = u.contract_id.clone() else {
            return; // operators have no contract and are not recipients
        };
        out.entry(u.id.clone())
            .and_modify(|r| r.cc &= cc) // a direct recipient who is also copied: once, direct
            .or_insert(Recipient {
                key: u.id.clone(),
                user_id: Some(u.id.clone()),
                contract_id,
                address: u.email.clone(),
                cc,
            });
    };

    match category {
        Category::ContractFee => {
            return affected
                .iter()
                .map(|c| Recipient {
                    key: format!("contact:{c}"),
                    user_id: None,
                    contract_id: c.to_string(),
                    address: contracts[c].contact_email.clone(),
                    cc: false,
                })
                .collect();
        }
        Category::Release => {
            for c in &affected {
                for u in members_of.get(c).into_iter().flatten() {
                    add(u, false);
                }
            }
        }
        Category::Failure | Category::Maintenance => {
            for c in &affected {
                let contract = contracts[c];
                let granted: HashSet<&str> = tenants_of
                    .get(c)
                    .into_iter()
                    .flatten()
                    .flat_map(|t| t.user_ids.iter().map(String::as_str))
                    .collect();
                for u in members_of.get(c).into_iter().flatten() {
                    if matches!(u.role, Role::Owner | Role::Admin)
                        || granted.contains(u.id.as_str())
                    {
                        add(u, false);
                    }
                }
                // Users of other contracts working in the tenant (a parent's users granted
                // access to a child's tenant).
                for id in &granted {
                    if let Some(u) = users.get(id)
                        && u.contract_id.as_deref() != Some(*c)
                    {
                        add(u, false);
                    }
                }
                let Some(parent) = contract.parent_id.as_deref().and_then(|p| contracts.get(p))
                else {
                    continue;
                };
                let restricted: HashMap<&str, &Vec<String>> = parent
                    .group_children
                    .iter()
                    .map(|(u, children)| (u.as_str(), children))
                    .collect();
                for u in members_of.get(parent.id.as_str()).into_iter().flatten() {
                    let manages = match u.role {
                        Role::Owner => true,
                        Role::Admin => restricted
                            .get(u.id.as_str())
                            .is_none_or(|children| children.iter().any(|x| x == c)),
                        _ => false,
                    };
                    if manages {
                        add(u, true);
                    }
                }
            }
        }
    }

    out.into_values()
        .filter(|r| {
            let Some(u) = r.user_id.as_deref().and_then(|id| users.get(id)) else {
                return true;
            };
            let locked = u.role == Role::Owner && category == Category::Failure;
            let opted_out = a.opt_outs.contains(&(u.id.clone(), category));
            // The suppression is the partner's choice for its child's users; a copy to the
            // partner's own admins is never suppressed (their contract is the partner).
            let suppressed = a.suppressed.contains(&(r.contract_id.clone(), category));
            !suppressed && (locked || !opted_out)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ecl_proto::contract::ContractKind;

    fn contract(id: &str, kind: ContractKind, parent: Option<&str>) -> AudienceContract {
        AudienceContract {
            id: id.into(),
            kind,
            parent_id: parent.map(Into::into),
            status: ContractStatus::Active,
            name: id.into(),
            owner_user_id: Some(format!("{id}-owner")),
            contact_email: format!("contact@{id}.example"),
            group_children: Vec::new(),
        }
    }

    fn user(id: &str, contract: &str, role: Role) -> UserView {
        UserView {
            id: id.into(),
            contract_id: Some(contract.into()),
            login_id: id.into(),
            email: format!("{id}@example.com"),
            role,
            can_view_usage: true,
            created_at: Default::default(),
            status: Default::default(),
        }
    }

    /// Partner P (owner, admin, user with access to P's tenant, user without) and child C (the
    /// same four), C's tenant granted to C's user and to P's `p-worker`.
    fn world() -> Audience {
        let mut members = Vec::new();
        for c in ["p", "c"] {
            members.push(user(&format!("{c}-owner"), c, Role::Owner));
            members.push(user(&format!("{c}-admin"), c, Role::Admin));
            members.push(user(&format!("{c}-user"), c, Role::User));
            members.push(user(&format!("{c}-idle"), c, Role::User));
        }
        members.push(user("p-worker", "p", Role::User));
        Audience {
            contracts: vec![
                contract("p", ContractKind::Partner, None),
                contract("c", ContractKind::Child, Some("p")),
            ],
            tenants: Vec::new(),
            members,
            ..Default::default()
        }
    }

    fn tenant(id: &str, contract: &str, users: &[&str]) -> TenantAudience {
        TenantAudience {
            tenant_id: id.into(),
            contract_id: contract.into(),
            user_ids: users.iter().map(|u| u.to_string()).collect(),
        }
    }

    fn keys(rs: &[Recipient]) -> Vec<(String, bool)> {
        rs.iter().map(|r| (r.key.clone(), r.cc)).collect()
    }

    fn on_tenants(a: &mut Audience, ids: &[&str]) -> Scope {
        let all = [
            tenant("tp", "p", &["p-user"]),
            tenant("tc", "c", &["c-user", "p-worker"]),
        ];
        a.tenants = all
            .into_iter()
            .filter(|t| ids.contains(&t.tenant_id.as_str()))
            .collect();
        Scope {
            tenant_ids: ids.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    fn set(v: &[(&str, bool)]) -> Vec<(String, bool)> {
        let mut v: Vec<(String, bool)> = v.iter().map(|(k, cc)| (k.to_string(), *cc)).collect();
        v.sort();
        v
    }

    #[test]
    fn failure_on_a_parents_tenant_owner_admins_and_users_with_access() {
        let mut a = world();
        let scope = on_tenants(&mut a, &["tp"]);
        let got = resolve(Category::Failure, &scope, &a);
        assert_eq!(
            keys(&got),
            set(&[("p-admin", false), ("p-owner", false), ("p-user", false)])
        );
    }

    #[test]
    fn failure_on_a_childs_tenant_copies_the_parents_admins_once() {
        let mut a = world();
        let scope = on_tenants(&mut a, &["tc"]);
        let got = resolve(Category::Maintenance, &scope, &a);
        assert_eq!(
            keys(&got),
            set(&[
                ("c-admin", false),
                ("c-owner", false),
                ("c-user", false),
                ("p-admin", true),
                ("p-owner", true),
                ("p-worker", false),
            ])
        );
        // A parent admin with access to the tenant gets it once, as a user with access.
        a.tenants[0].user_ids.push("p-admin".into());
        let got = resolve(Category::Maintenance, &scope, &a);
        assert_eq!(got.iter().filter(|r| r.key == "p-admin").count(), 1);
        assert!(!got.iter().find(|r| r.key == "p-admin").unwrap().cc);
    }

    #[test]
    fn failure_on_both_sides_is_the_union() {
        let mut a = world();
        let scope = on_tenants(&mut a, &["tp", "tc"]);
        let got = resolve(Category::Failure, &scope, &a);
        assert_eq!(
            keys(&got),
            set(&[
                ("c-admin", false),
                ("c-owner", false),
                ("c-user", false),
                ("p-admin", false),
                ("p-owner", false),
                ("p-user", false),
                ("p-worker", false),
            ])
        );
    }

    #[test]
    fn release_reaches_every_user_of_the_affected_contracts() {
        let a = world();
        let scope = Scope {
            contract_ids: vec!["c".into()],
            ..Default::default()
        };
        let got = resolve(Category::Release, &scope, &a);
        assert_eq!(
            keys(&got),
            set(&[
                ("c-admin", false),
                ("c-idle", false),
                ("c-owner", false),
                ("c-user", false)
            ])
        );
        let all = resolve(
            Category::Release,
            &Scope {
                all: true,
                ..Default::default()
            },
            &a,
        );
        assert_eq!(all.len(), 9);
    }

    #[test]
    fn opt_outs_except_the_owners_failure() {
        let mut a = world();
        let scope = on_tenants(&mut a, &["tp"]);
        for u in ["p-owner", "p-admin"] {
            a.opt_outs.insert((u.into(), Category::Failure));
            a.opt_outs.insert((u.into(), Category::Maintenance));
        }
        let failure = resolve(Category::Failure, &scope, &a);
        assert_eq!(
            keys(&failure),
            set(&[("p-owner", false), ("p-user", false)])
        );
        let maintenance = resolve(Category::Maintenance, &scope, &a);
        assert_eq!(keys(&maintenance), set(&[("p-user", false)]));
    }

    #[test]
    fn suppression_silences_the_child_not_the_partner() {
        let mut a = world();
        let scope = on_tenants(&mut a, &["tc"]);
        a.suppressed.insert(("c".into(), Category::Failure));
        let got = resolve(Category::Failure, &scope, &a);
        assert_eq!(
            keys(&got),
            set(&[("p-admin", true), ("p-owner", true), ("p-worker", false)])
        );
    }

    #[test]
    fn a_group_restricted_parent_admin_is_copied_only_on_its_children() {
        let mut a = world();
        let scope = on_tenants(&mut a, &["tc"]);
        a.contracts[0].group_children = vec![("p-admin".into(), vec!["other".into()])];
        let got = resolve(Category::Failure, &scope, &a);
        assert!(!got.iter().any(|r| r.key == "p-admin"));
        a.contracts[0].group_children = vec![("p-admin".into(), vec!["c".into()])];
        let got = resolve(Category::Failure, &scope, &a);
        assert!(got.iter().any(|r| r.key == "p-admin" && r.cc));
    }

    #[test]
    fn contract_fee_goes_to_the_contact_person() {
        let a = world();
        let scope = Scope {
            contract_ids: vec!["c".into()],
            ..Default::default()
        };
        let got = resolve(Category::ContractFee, &scope, &a);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].address, "contact@c.example");
        assert_eq!(got[0].user_id, None);
    }
}
