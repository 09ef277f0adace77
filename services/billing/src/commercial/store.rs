//! The commercial tables of the billing service, and the frozen migration that creates them.
//!
//! Every table has one shape: a key, the owner it is listed by (indexed), a month where the row
//! is about one, the domain value as JSON, and when it was written. Rows are the pure types of
//! [`super`] serialised, so the rules stay in one place and a table change is a new migration.

use sea_orm_migration::prelude::*;

/// Declares an entity of the shared shape.
macro_rules! commercial_table {
    ($module:ident, $table:literal, $doc:literal) => {
        #[doc = $doc]
        pub mod $module {
            use sea_orm::entity::prelude::*;

            #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
            #[sea_orm(table_name = $table)]
            pub struct Model {
                #[sea_orm(primary_key, auto_increment = false)]
                pub id: String,
                #[sea_orm(indexed)]
                pub owner_id: String,
                /// `YYYY-MM`, or empty when the row is not about one month.
                pub month: String,
                /// The domain value, JSON.
                pub body: String,
                pub created_at: i64,
            }

            #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
            pub enum Relation {}

            impl ActiveModelBehavior for ActiveModel {}
        }
    };
}

commercial_table!(
    price_rule,
    "price_rules",
    "A partner's price rule (`owner_id` = partner); ended rules stay: they priced past months."
);
commercial_table!(
    child_bill_view,
    "child_bill_views",
    "What a child's users see of its bills (`id` = `owner_id` = child)."
);
commercial_table!(
    coupon,
    "coupons",
    "A coupon (`id` = code, `owner_id` = \"\")."
);
commercial_table!(
    coupon_registration,
    "coupon_registrations",
    "A contract's registration of a code (`id` = `code|contract`, `owner_id` = contract, `month` = first month)."
);
commercial_table!(
    tax_setting,
    "tax_settings",
    "A non-JPY contract's tax setting (`id` = `owner_id` = contract)."
);
commercial_table!(
    agreement,
    "agency_agreements",
    "An agency's agreement (`id` = `owner_id` = agency)."
);
commercial_table!(
    referral,
    "agency_referrals",
    "A direct contract referred by an agency (`id` = contract, `owner_id` = agency, `month` = first)."
);
commercial_table!(
    statement,
    "commission_statements",
    "An agency's statement of a closed month (`id` = `agency|month`, `owner_id` = agency)."
);
commercial_table!(
    end_user_bill,
    "end_user_bills",
    "A child's end-user bill fixed at month close (`id` = `child|month`, `owner_id` = child)."
);

commercial_table!(
    bill_correction,
    "bill_corrections",
    "An operator's correction of a FIXED bill (`id` = correction id, `owner_id` = contract, `month` = the bill's month); created by [`M0005BillCorrections`]."
);

/// The tables above but `bill_corrections`. Frozen: states its own DDL.
pub struct M0002Commercial;

pub const TABLES: [&str; 9] = [
    "price_rules",
    "child_bill_views",
    "coupons",
    "coupon_registrations",
    "tax_settings",
    "agency_agreements",
    "agency_referrals",
    "commission_statements",
    "end_user_bills",
];

impl MigrationName for M0002Commercial {
    fn name(&self) -> &str {
        "m0002_commercial"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0002Commercial {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use sea_orm_migration::schema::{big_integer, string};
        for table in TABLES {
            manager
                .create_table(
                    Table::create()
                        .table(table)
                        .if_not_exists()
                        .col(string("id").primary_key())
                        .col(string("owner_id"))
                        .col(string("month"))
                        .col(string("body"))
                        .col(big_integer("created_at"))
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(ecl_store::index(table, "owner_id"))
                .await?;
        }
        Ok(())
    }
}

/// The table of fixed bills' corrections, in the shared shape. Frozen: states its own DDL.
pub struct M0005BillCorrections;

impl MigrationName for M0005BillCorrections {
    fn name(&self) -> &str {
        "m0005_bill_corrections"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0005BillCorrections {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use sea_orm_migration::schema::{big_integer, string};
        manager
            .create_table(
                Table::create()
                    .table("bill_corrections")
                    .if_not_exists()
                    .col(string("id").primary_key())
                    .col(string("owner_id"))
                    .col(string("month"))
                    .col(string("body"))
                    .col(big_integer("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(ecl_store::index("bill_corrections", "owner_id"))
            .await
    }
}

#[cfg(test)]
/// The entities' DDL, for the migration check of the service.
pub fn entity_ddls(backend: sea_orm::DatabaseBackend) -> Vec<ecl_store::schema_check::EntityDdl> {
    use ecl_store::schema_check::entity_ddl;
    vec![
        entity_ddl(backend, price_rule::Entity),
        entity_ddl(backend, child_bill_view::Entity),
        entity_ddl(backend, coupon::Entity),
        entity_ddl(backend, coupon_registration::Entity),
        entity_ddl(backend, tax_setting::Entity),
        entity_ddl(backend, agreement::Entity),
        entity_ddl(backend, referral::Entity),
        entity_ddl(backend, statement::Entity),
        entity_ddl(backend, end_user_bill::Entity),
        entity_ddl(backend, bill_correction::Entity),
    ]
}
