//! The contract service's tables.

pub mod contract {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "contracts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// Stored as its wire text (`DIRECT`, `PARTNER`, `CHILD`).
        pub kind: ecl_proto::contract::ContractKind,
        #[sea_orm(indexed)]
        pub parent_id: Option<String>,
        pub name: String,
        /// Lower-cased name for case-insensitive search on both backends.
        pub name_lower: String,
        #[sea_orm(indexed)]
        pub external_id: Option<String>,
        pub status: String,
        pub company: String,
        pub address: String,
        pub contact_name: String,
        pub contact_email: String,
        pub owner_user_id: Option<String>,
        /// Microseconds since the epoch; with `id` the stable list order.
        #[sea_orm(indexed)]
        pub created_at: i64,
        pub abolished_at: Option<i64>,
    }
    ecl_store::sqlite_row!(Model {
        id,
        kind,
        parent_id,
        name,
        name_lower,
        external_id,
        status,
        company,
        address,
        contact_name,
        contact_email,
        owner_user_id,
        created_at,
        abolished_at
    });

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}

    /// A contract's place in the tree: all the access rules look at (`access.rs`).
    #[derive(Clone, Debug, DerivePartialModel)]
    #[sea_orm(entity = "Entity", from_query_result)]
    pub struct Placed {
        pub id: String,
        pub parent_id: Option<String>,
    }
    ecl_store::sqlite_row!(Placed { id, parent_id });
}

pub mod group {
    use sea_orm::entity::prelude::*;

    /// A partner's contract group.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "contract_groups")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        #[sea_orm(indexed)]
        pub partner_id: String,
        pub name: String,
        pub created_at: i64,
    }
    ecl_store::sqlite_row!(Model {
        id,
        partner_id,
        name,
        created_at
    });

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod group_child {
    use sea_orm::entity::prelude::*;

    /// A child contract in a group.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "contract_group_children")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub group_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub contract_id: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod group_user {
    use sea_orm::entity::prelude::*;

    /// A parent-contract user assigned to a group.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "contract_group_users")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub group_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        #[sea_orm(indexed)]
        pub user_id: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
