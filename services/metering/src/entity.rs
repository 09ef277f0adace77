//! The metering service's tables: stored usage events, what each resource carries into each
//! month, and its read model of tenants and contracts.

pub mod usage_event {
    use sea_orm::entity::prelude::*;

    /// One accepted usage event; the producer's id is the key, so a repeated id is stored once.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "usage_events")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        #[sea_orm(indexed)]
        pub tenant_id: String,
        pub resource_id: String,
        pub menu_code: String,
        pub kind: ecl_proto::metering::UsageKind,
        /// Microseconds since the epoch.
        pub at: i64,
        pub plan: Option<String>,
        pub status: Option<String>,
        /// Decimal string.
        pub quantity: Option<String>,
        pub resource_name: Option<String>,
        pub received_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}

    /// The columns the derivation of intervals reads (not when the event was received): a
    /// month's usage of a chunk of tenants is hundreds of thousands of these rows.
    #[derive(Clone, Debug, DerivePartialModel)]
    #[sea_orm(entity = "Entity", from_query_result)]
    pub struct Derived {
        pub id: String,
        pub tenant_id: String,
        pub resource_id: String,
        pub menu_code: String,
        pub kind: ecl_proto::metering::UsageKind,
        pub at: i64,
        pub plan: Option<String>,
        pub status: Option<String>,
        pub quantity: Option<String>,
        pub resource_name: Option<String>,
    }
}

pub mod known_tenant {
    use sea_orm::entity::prelude::*;

    /// A tenant as the tenant service announced it (`TenantChanged`).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "known_tenants")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub contract_id: String,
        pub deleted: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod known_contract {
    use sea_orm::entity::prelude::*;

    /// A contract's kind as the contract service announced it (`ContractChanged`): children may
    /// only use resellable menus.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "known_contracts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub kind: ecl_proto::contract::ContractKind,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod usage_month_start {
    use sea_orm::entity::prelude::*;

    /// What one resource carried into one month (`intervals::Carried` as JSON): written as its
    /// events arrive, for each month start after them, so reading a month reads that month's
    /// events and one of these per resource, however long the resource has lived.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "usage_month_starts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub resource_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub menu_code: String,
        /// `YYYY-MM`: sorts as the months do.
        #[sea_orm(primary_key, auto_increment = false)]
        pub month: String,
        #[sea_orm(column_type = "Text")]
        pub state: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Indexes the entities cannot state (sea-orm's `indexed` is one column): a month's events of
/// some tenants are one range of `(tenant_id, at)`.
#[cfg(test)]
pub fn composite_indexes() -> Vec<sea_orm::sea_query::IndexCreateStatement> {
    vec![
        sea_orm::sea_query::Index::create()
            .name("idx-usage_events-tenant_id-at")
            .table(usage_event::Entity)
            .col(usage_event::Column::TenantId)
            .col(usage_event::Column::At)
            .if_not_exists()
            .to_owned(),
        sea_orm::sea_query::Index::create()
            .name("idx-usage_events-resource-at")
            .table(usage_event::Entity)
            .col(usage_event::Column::TenantId)
            .col(usage_event::Column::ResourceId)
            .col(usage_event::Column::MenuCode)
            .col(usage_event::Column::At)
            .if_not_exists()
            .to_owned(),
    ]
}

/// A stored event as the derivation reads it.
impl From<usage_event::Derived> for crate::intervals::Ev {
    fn from(r: usage_event::Derived) -> Self {
        crate::intervals::Ev {
            id: r.id,
            resource_id: r.resource_id,
            menu_code: r.menu_code,
            kind: r.kind,
            at: chrono::DateTime::from_timestamp_micros(r.at).unwrap_or_default(),
            plan: r.plan,
            status: r.status,
            quantity: r.quantity,
            name: r.resource_name,
        }
    }
}
