//! The notification service's tables.

pub mod notice {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "notices")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub category: String,
        pub title: String,
        #[sea_orm(column_type = "Text")]
        pub body: String,
        pub title_ja: Option<String>,
        #[sea_orm(column_type = "Text", nullable)]
        pub body_ja: Option<String>,
        /// JSON arrays of the scope as published (both empty: every contract).
        #[sea_orm(column_type = "Text")]
        pub contract_ids: String,
        #[sea_orm(column_type = "Text")]
        pub tenant_ids: String,
        pub starts_at: Option<i64>,
        pub ends_at: Option<i64>,
        /// `operator`, `sla`, `billing`, …
        pub source: String,
        /// The id of the event that asked for it: a redelivered event finds its notice here and
        /// changes nothing (unique; NULL for the operator's own publications).
        #[sea_orm(unique)]
        pub source_event_id: Option<String>,
        pub recipients: i64,
        #[sea_orm(indexed)]
        pub created_at: i64,
    }
    ecl_store::sqlite_row!(Model {
        id,
        category,
        title,
        body,
        title_ja,
        body_ja,
        contract_ids,
        tenant_ids,
        starts_at,
        ends_at,
        source,
        source_event_id,
        recipients,
        created_at
    });

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod delivery {
    use sea_orm::entity::prelude::*;

    /// The delivery log: one row per (notice, recipient) — its id is `<notice>|<recipient>`, so
    /// a second attempt to queue the same mail is a no-op and a mail is never queued twice.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "deliveries")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        #[sea_orm(indexed)]
        pub notice_id: String,
        /// `None` for a contract's contact person.
        #[sea_orm(indexed)]
        pub user_id: Option<String>,
        /// The recipient's own contract.
        #[sea_orm(indexed)]
        pub contract_id: String,
        pub address: String,
        pub channel: String,
        pub cc: bool,
        /// `QUEUED`, `SENT`, `FAILED`.
        #[sea_orm(indexed)]
        pub status: String,
        pub attempts: i32,
        #[sea_orm(column_type = "Text", nullable)]
        pub last_error: Option<String>,
        pub sent_at: Option<i64>,
        /// Not before (µs): the backoff of a deferred mail.
        #[sea_orm(indexed)]
        pub next_attempt_at: i64,
        /// A sender claimed the row until then (µs); another takes it over only afterwards, so a
        /// mail is in one sender's hands at a time, and a killed sender's rows go out again.
        pub lease_until: i64,
        pub lease_owner: String,
        pub created_at: i64,
    }
    ecl_store::sqlite_row!(Model {
        id,
        notice_id,
        user_id,
        contract_id,
        address,
        channel,
        cc,
        status,
        attempts,
        last_error,
        sent_at,
        next_attempt_at,
        lease_until,
        lease_owner,
        created_at
    });

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod opt_out {
    use sea_orm::entity::prelude::*;

    /// A user chose not to receive a category (no row: receive, the initial state).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "opt_outs")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub category: String,
        pub changed_by: String,
        pub changed_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod suppression {
    use sea_orm::entity::prelude::*;

    /// A partner suppressed a category for one of its children.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "suppressions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub contract_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub category: String,
        pub changed_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
