//! Who may do what with a contract — the rules of SPEC §1 in one place, checked by this service
//! itself (the gateway is not the only gate).

use crate::entity::contract;
use ecl_kernel::{Principal, Role};

pub struct Access<'a> {
    who: &'a Principal,
}

impl<'a> Access<'a> {
    pub fn of(who: &'a Principal) -> Self {
        Access { who }
    }

    fn own(&self, c: &contract::Model) -> bool {
        self.who.contract_id() == Some(c.id.as_str())
    }

    fn is_parent_of(&self, c: &contract::Model) -> bool {
        c.parent_id.is_some() && self.who.contract_id() == c.parent_id.as_deref()
    }

    /// Operator: everything. Members: their own contract. Owners and admins of a partner: also its
    /// children. Child users never see the parent or siblings.
    pub fn sees(&self, c: &contract::Model) -> bool {
        self.who.is_operator() || self.own(c) || (self.is_parent_of(c) && self.who.is_manager())
    }

    /// May manage the children of `parent` (list, create, change, abolish).
    pub fn manages_children_of(&self, parent: &contract::Model) -> bool {
        self.who.is_operator() || (self.own(parent) && self.who.is_manager())
    }

    /// May manage the child `c`.
    pub fn manages_child(&self, c: &contract::Model) -> bool {
        self.is_parent_of(c) && self.who.is_manager()
    }

    /// Customer information: the operator, the contract's own owner, and the owner of its parent
    /// (who entered it when creating the child).
    /// API keys with the contracts scope see it where an owner would.
    pub fn sees_customer(&self, c: &contract::Model) -> bool {
        let owner_like = self.who.role() == Some(Role::Owner)
            || self
                .who
                .key_has(ecl_kernel::Area::Contracts, ecl_kernel::Level::Read);
        self.who.is_operator() || (owner_like && (self.own(c) || self.is_parent_of(c)))
    }

    /// May change name / external id: the operator, the parent's managers for a child, and the
    /// contract's own owner.
    pub fn may_change(&self, c: &contract::Model) -> bool {
        self.who.is_operator()
            || self.manages_child(c)
            || (self.own(c) && self.who.role() == Some(Role::Owner))
    }
}
