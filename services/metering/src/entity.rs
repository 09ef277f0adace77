//! The metering service's tables: stored usage events and its read model of tenants and contracts.

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
        pub kind: String,
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
        pub kind: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
