//! Who may do what with a contract — the rules of SPEC §1 in one place, checked by this service
//! itself (the gateway is not the only gate). Other services get the verdict for their own
//! questions through `ContractView::managed`.

use crate::entity::contract;
use ecl_kernel::{Principal, Role};
use sea_orm::{ColumnTrait, Condition};
use std::collections::HashSet;

/// A contract's place in the tree, whichever of its columns were read.
pub trait InTree {
    fn id(&self) -> &str;
    fn parent_id(&self) -> Option<&str>;
}

impl InTree for contract::Model {
    fn id(&self) -> &str {
        &self.id
    }
    fn parent_id(&self) -> Option<&str> {
        self.parent_id.as_deref()
    }
}

impl<T: InTree> InTree for &T {
    fn id(&self) -> &str {
        (*self).id()
    }
    fn parent_id(&self) -> Option<&str> {
        (*self).parent_id()
    }
}

impl InTree for contract::Placed {
    fn id(&self) -> &str {
        &self.id
    }
    fn parent_id(&self) -> Option<&str> {
        self.parent_id.as_deref()
    }
}

pub struct Access<'a> {
    who: &'a Principal,
    /// For a parent admin or user assigned to contract groups: the children of those groups, the
    /// only ones they see and manage. `None`: not assigned to any group.
    only: Option<HashSet<String>>,
}

impl<'a> Access<'a> {
    pub fn new(who: &'a Principal, only: Option<HashSet<String>>) -> Self {
        Access { who, only }
    }

    fn own(&self, c: &impl InTree) -> bool {
        self.who.contract_id() == Some(c.id())
    }

    fn is_parent_of(&self, c: &impl InTree) -> bool {
        c.parent_id().is_some() && self.who.contract_id() == c.parent_id()
    }

    /// A child of the caller's partner contract that the caller manages: all children for the
    /// owner and admins not assigned to groups; only their groups' children for those assigned
    /// (admins and general users alike).
    fn child_allowed(&self, c: &impl InTree) -> bool {
        self.is_parent_of(c)
            && match &self.only {
                None => self.who.is_manager(),
                Some(children) => children.contains(c.id()),
            }
    }

    /// Operator: everything. Members: their own contract. A partner's managers: also its
    /// children (within their groups). Child users never see the parent or siblings.
    pub fn is_operator(&self) -> bool {
        self.who.is_operator()
    }

    pub fn sees(&self, c: &impl InTree) -> bool {
        self.who.is_operator() || self.own(c) || self.child_allowed(c)
    }

    /// May create children of `parent` and manage its groups: the operator, the partner's owner
    /// and its admins not restricted to groups.
    pub fn manages_children_of(&self, parent: &contract::Model) -> bool {
        self.who.is_operator() || (self.own(parent) && self.who.is_manager() && self.only.is_none())
    }

    /// Which children of `parent` the caller lists: `None` for none.
    pub fn children_scope(&self, parent: &impl InTree) -> Option<Condition> {
        let all = Condition::all().add(contract::Column::ParentId.eq(parent.id()));
        if self.who.is_operator() {
            return Some(all);
        }
        if !self.own(parent) {
            return None;
        }
        match &self.only {
            None if self.who.is_manager() => Some(all),
            None => None,
            Some(children) => Some(all.add(contract::Column::Id.is_in(children.iter().cloned()))),
        }
    }

    /// The contracts `search` may return for a member of `cid`.
    pub fn search_scope(&self, cid: &str) -> Condition {
        let own = Condition::any().add(contract::Column::Id.eq(cid));
        match &self.only {
            None if self.who.is_manager() => own.add(contract::Column::ParentId.eq(cid)),
            None => own,
            Some(children) => own.add(
                Condition::all()
                    .add(contract::Column::ParentId.eq(cid))
                    .add(contract::Column::Id.is_in(children.iter().cloned())),
            ),
        }
    }

    /// May manage the child `c` (change, abolish).
    pub fn manages_child(&self, c: &contract::Model) -> bool {
        self.child_allowed(c)
    }

    /// May manage `c`'s users and tenants.
    pub fn manages(&self, c: &impl InTree) -> bool {
        self.who.is_operator() || (self.own(c) && self.who.is_manager()) || self.child_allowed(c)
    }

    /// Customer information: the operator, the contract's own owner, and the owner of its parent
    /// (who entered it when creating the child). API keys with the contracts scope see it where
    /// their creator, being an owner, would — never more than the creator (issue 9).
    pub fn sees_customer(&self, c: &contract::Model) -> bool {
        self.who.is_operator()
            || (self.who.is_owner_like() && (self.own(c) || self.is_parent_of(c)))
    }

    /// May change name / external id: the operator, the parent's managers for a child, and the
    /// contract's own owner.
    pub fn may_change(&self, c: &contract::Model) -> bool {
        self.who.is_operator()
            || self.manages_child(c)
            || (self.own(c) && self.who.role() == Some(Role::Owner))
    }
}
