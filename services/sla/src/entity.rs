//! The SLA service's tables. Times are Unix microseconds, money decimal strings.

pub mod incident {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "incidents")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub menu_code: String,
        /// `FAILURE`, `FORCE_MAJEURE`, `CUSTOMER_CAUSED`, `HA_SWITCHOVER_OK`, `THIRD_PARTY`.
        pub cause: ecl_proto::sla::IncidentCause,
        pub title: String,
        #[sea_orm(column_type = "Text", nullable)]
        pub description: Option<String>,
        /// Set when recorded for every tenant of a region.
        pub region: Option<String>,
        #[sea_orm(indexed)]
        pub started_at: i64,
        pub restored_at: Option<i64>,
        pub created_by: String,
        pub created_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod affected {
    use sea_orm::entity::prelude::*;

    /// A tenant an incident or a maintenance window affects (`event_id`: either's id), with its
    /// contract and the window copied from it, so a month of a contract is one indexed read.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "affected")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub event_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: String,
        #[sea_orm(indexed)]
        pub contract_id: String,
        pub menu_code: String,
        /// `INCIDENT` or `MAINTENANCE`.
        pub kind: String,
        /// The incident's cause (`MAINTENANCE` for a window).
        pub cause: String,
        pub starts_at: i64,
        /// `None`: not restored yet.
        pub ends_at: Option<i64>,
        pub created_at: i64,
    }
    ecl_store::sqlite_row!(Model {
        event_id,
        tenant_id,
        contract_id,
        menu_code,
        kind,
        cause,
        starts_at,
        ends_at,
        created_at
    });

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod maintenance {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "maintenances")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// `ANNOUNCED` or `URGENT`.
        pub kind: ecl_proto::sla::MaintenanceKind,
        pub menu_code: String,
        pub title: String,
        #[sea_orm(column_type = "Text", nullable)]
        pub description: Option<String>,
        pub region: Option<String>,
        pub starts_at: i64,
        pub ends_at: i64,
        pub created_by: String,
        pub created_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod part_replacement {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "part_replacements")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        #[sea_orm(indexed)]
        pub contract_id: String,
        pub tenant_id: String,
        pub menu_code: String,
        #[sea_orm(indexed)]
        pub resource_id: String,
        pub part: ecl_proto::sla::ServerPart,
        pub detected_at: i64,
        pub proposed_at: i64,
        pub agreed_start_at: i64,
        pub started_at: Option<i64>,
        pub created_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod claim {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "claims")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        #[sea_orm(indexed)]
        pub contract_id: String,
        pub breach_kind: ecl_proto::sla::BreachKind,
        pub breach_id: String,
        /// `<contract>|<month>|<menu>` for uptime, `<contract>|<month>|part|<server>` for a
        /// server's part replacements: one claim per breached level and month (unique), so the
        /// same downtime is never credited twice.
        #[sea_orm(unique)]
        pub breach_key: String,
        pub month: ecl_kernel::Month,
        pub menu_code: String,
        #[sea_orm(column_type = "Text", nullable)]
        pub note: Option<String>,
        /// `PENDING`, `APPROVED`, `REJECTED`.
        pub status: ecl_proto::sla::ClaimStatus,
        pub amount: Option<String>,
        pub currency: Option<ecl_proto::billing::Currency>,
        #[sea_orm(column_type = "Text", nullable)]
        pub reason: Option<String>,
        pub filed_by: String,
        pub filed_at: i64,
        pub decided_by: Option<String>,
        pub decided_at: Option<i64>,
        pub bill_month: Option<ecl_kernel::Month>,
    }
    ecl_store::sqlite_row!(Model {
        id,
        contract_id,
        breach_kind,
        breach_id,
        breach_key,
        month,
        menu_code,
        note,
        status,
        amount,
        currency,
        reason,
        filed_by,
        filed_at,
        decided_by,
        decided_at,
        bill_month
    });

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod credit {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "credits")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        #[sea_orm(unique)]
        pub claim_id: String,
        #[sea_orm(indexed)]
        pub contract_id: String,
        pub parent_id: Option<String>,
        pub amount: String,
        /// JSON array of (tenant id, amount): the amount by tenant.
        #[sea_orm(column_type = "Text")]
        pub tenant_amounts: String,
        pub currency: ecl_proto::billing::Currency,
        pub failure_month: ecl_kernel::Month,
        pub bill_month: ecl_kernel::Month,
        pub label: String,
        pub approved_at: i64,
    }
    ecl_store::sqlite_row!(Model {
        id,
        claim_id,
        contract_id,
        parent_id,
        amount,
        tenant_amounts,
        currency,
        failure_month,
        bill_month,
        label,
        approved_at
    });

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod tenant {
    use sea_orm::entity::prelude::*;

    /// Read model of the tenant service's tenants (its `TenantChanged` events): an incident
    /// "for every tenant of a region" is expanded from here.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "tenants")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub contract_id: String,
        #[sea_orm(indexed)]
        pub region: String,
        pub deleted: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
