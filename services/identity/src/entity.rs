//! The identity service's tables.

pub mod user {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "users")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        #[sea_orm(indexed)]
        pub contract_id: Option<String>,
        #[sea_orm(unique)]
        pub login_id: String,
        pub email: String,
        pub password_hash: String,
        pub role: String,
        /// `ACTIVE` or `DELETED` (kept so tokens of a deleted user can be told apart).
        pub status: String,
        /// Tokens issued before this instant (unix seconds) are no longer accepted.
        pub sessions_valid_after: i64,
        /// Failed sign-ins in the current window (lockout).
        pub failed_attempts: i32,
        /// Unix seconds when the current failure window opened.
        pub failures_since: i64,
        /// Unix seconds until which sign-in is refused (0: not locked).
        pub locked_until: i64,
        /// When false, an admin does not see bills and usage (SPEC §1).
        pub can_view_usage: bool,
        pub created_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}

    /// The columns a list of users shows: not the password hash nor the lockout counters (only
    /// the lock's end, for the status), which a page of 400 users would otherwise copy out of
    /// the database for nothing.
    #[derive(Clone, Debug, DerivePartialModel)]
    #[sea_orm(entity = "Entity", from_query_result)]
    pub struct Listed {
        pub id: String,
        pub contract_id: Option<String>,
        pub login_id: String,
        pub email: String,
        pub role: String,
        pub locked_until: i64,
        pub can_view_usage: bool,
        pub created_at: i64,
    }
    ecl_store::sqlite_row!(Listed {
        id,
        contract_id,
        login_id,
        email,
        role,
        locked_until,
        can_view_usage,
        created_at
    });
}

pub mod signing_key {
    use sea_orm::entity::prelude::*;

    /// HMAC keys for access tokens, identified by `kid`; shared by every identity replica through
    /// the database, so any replica verifies what another signed.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "signing_keys")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub kid: String,
        pub secret: String,
        pub created_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod totp {
    use sea_orm::entity::prelude::*;

    /// A user's TOTP enrolment. `enabled` only after the first code confirmed it.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "totp")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: String,
        pub secret: String,
        pub enabled: bool,
        /// JSON array of SHA-256 hashes of the unused recovery codes.
        #[sea_orm(column_type = "Text")]
        pub recovery_hashes: String,
        /// The last accepted time step (RFC 6238 §5.2): a code of this step or an earlier one is
        /// refused. `None` until the first code is accepted.
        pub last_step: Option<i64>,
        pub created_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod refresh_token {
    use sea_orm::entity::prelude::*;

    /// A refresh token (stored as its SHA-256). Tokens of one sign-in form a family; each use
    /// rotates to a new member, and a reused member revokes the whole family.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "refresh_tokens")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub token_hash: String,
        #[sea_orm(indexed)]
        pub family_id: String,
        pub user_id: String,
        pub issued_at: i64,
        pub expires_at: i64,
        pub used: bool,
        pub revoked: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod api_key {
    use sea_orm::entity::prelude::*;

    /// A partner integration's key. Only the SHA-256 of the secret is kept.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "api_keys")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        #[sea_orm(indexed)]
        pub contract_id: String,
        pub name: String,
        pub prefix: String,
        #[sea_orm(unique)]
        pub secret_hash: String,
        /// Space-separated scopes (`tenants:write users:read`).
        pub scopes: String,
        pub created_by: String,
        /// Unix microseconds (like every `*_at` here); `None`: never.
        pub created_at: i64,
        pub expires_at: Option<i64>,
        pub last_used_at: Option<i64>,
        pub revoked_at: Option<i64>,
    }
    ecl_store::sqlite_row!(Model {
        id,
        contract_id,
        name,
        prefix,
        secret_hash,
        scopes,
        created_by,
        created_at,
        expires_at,
        last_used_at,
        revoked_at
    });

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
