//! The tenant service's tables.

pub mod tenant {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "tenants")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        #[sea_orm(indexed)]
        pub contract_id: String,
        pub name: String,
        pub region: String,
        pub workspace_id: String,
        pub created_at: i64,
    }
    ecl_store::sqlite_row!(Model {
        id,
        contract_id,
        name,
        region,
        workspace_id,
        created_at
    });

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod workspace {
    use sea_orm::entity::prelude::*;

    /// Groups a contract's tenants for the summary bill. The default one's id is `wsp` + the
    /// contract id, so every replica agrees on it without coordination.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "workspaces")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        #[sea_orm(indexed)]
        pub contract_id: String,
        pub name: String,
        pub is_default: bool,
        pub created_at: i64,
    }
    ecl_store::sqlite_row!(Model {
        id,
        contract_id,
        name,
        is_default,
        created_at
    });

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod grant {
    use sea_orm::entity::prelude::*;

    /// A user's access right to a tenant.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "tenant_grants")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        #[sea_orm(indexed)]
        pub user_id: String,
        /// The tenant's contract (grants of an abolished contract go with its tenants).
        #[sea_orm(indexed)]
        pub contract_id: String,
        pub created_at: i64,
    }
    ecl_store::sqlite_row!(Model {
        tenant_id,
        user_id,
        contract_id,
        created_at
    });

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
