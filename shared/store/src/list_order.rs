//! Every list is read in (creation time, id) order within its owner (a partner's children, a
//! contract's tenants and users): an index on `(owner, created_at, id)` lets the database read a
//! page as a range of that index and stop after `limit + 1` rows. With only an index on the owner
//! it read every row of the owner and sorted them: the walk's first page of 100 children read
//! and sorted all 1,000 of the partner's (SQLite's plan: `USE TEMP B-TREE FOR ORDER BY`), and
//! each batch of 100 contracts' tenants and users was sorted again for its window.

use sea_orm_migration::prelude::*;

/// The index on `table`'s `(owner, created_at, id)`. Frozen (migrations create it): its name and
/// columns never change.
pub fn index(table: &'static str, owner: &'static str) -> IndexCreateStatement {
    Index::create()
        .name(format!("idx-{table}-{owner}-list-order"))
        .table(Alias::new(table))
        .col(Alias::new(owner))
        .col(Alias::new("created_at"))
        .col(Alias::new("id"))
        .if_not_exists()
        .to_owned()
}

/// A migration creating the list-order index of each `(table, owner)`.
pub struct CreateListOrderIndexes {
    /// The migration's name in the service's history (e.g. `m0003_list_order`).
    pub name: &'static str,
    pub lists: &'static [(&'static str, &'static str)],
}

impl MigrationName for CreateListOrderIndexes {
    fn name(&self) -> &str {
        self.name
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateListOrderIndexes {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, owner) in self.lists {
            manager.create_index(index(table, owner)).await?;
        }
        Ok(())
    }
}

/// `ddl` (an entity's table and indexes) with the list-order index on `owner`: what the
/// migrations build, for the schema check (the entity derive cannot state a composite index
/// that is not unique).
pub fn with_index(
    (create, mut indexes): crate::schema_check::EntityDdl,
    table: &'static str,
    owner: &'static str,
) -> crate::schema_check::EntityDdl {
    indexes.push(index(table, owner));
    (create, indexes)
}
