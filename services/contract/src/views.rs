//! Stored contracts as the messages show them: the kind and status on the wire, and the
//! customer information only for those allowed to see it.

use crate::{ABOLISHED, access::Access, entity::contract};
use ecl_proto::contract::{ContractStatus, ContractView, Customer};

pub(crate) fn ts(us: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_micros(us).unwrap_or_default()
}

/// The view of `c` for the caller: customer information only for those allowed to see it.
pub(crate) fn view(c: &contract::Model, access: &Access) -> ContractView {
    ContractView {
        id: c.id.clone(),
        kind: c.kind,
        parent_id: c.parent_id.clone(),
        name: c.name.clone(),
        external_id: c.external_id.clone(),
        status: if c.status == ABOLISHED {
            ContractStatus::Abolished
        } else {
            ContractStatus::Active
        },
        managed: access.manages(c),
        customer: access.sees_customer(c).then(|| Customer {
            company: c.company.clone(),
            address: c.address.clone(),
            contact_name: c.contact_name.clone(),
            contact_email: c.contact_email.clone(),
        }),
        owner_user_id: c.owner_user_id.clone(),
        created_at: ts(c.created_at),
        abolished_at: c.abolished_at.map(ts),
    }
}
