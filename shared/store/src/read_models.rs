//! Read models of contracts and tenants: several services keep a table of them, fed by the
//! contract service's `ContractChanged` and the tenant service's `TenantChanged` events, so that
//! checking a usage event or billing a month never asks another service per item.
//!
//! Each service keeps its own table (its names and its frozen migrations) with the columns it
//! needs; what an announcement means — which field lands in which column, what "deleted" is, which
//! columns a later announcement may change — is decided here once. A service's entity implements
//! [`TenantReadModel`] or [`ContractReadModel`] by naming its columns, and calls [`keep_tenant`] /
//! [`keep_contract`] from its event handler (in the inbox's transaction) and the lookups below.

use ecl_kernel::AppResult;
use ecl_proto::{
    contract::{ContractChanged, ContractKind},
    tenant::{TenantChange, TenantChanged},
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Value,
    sea_query::{OnConflict, Query},
};

/// Ids per `IN (…)` list: far below both backends' parameter limits.
const IDS_PER_QUERY: usize = 1_000;

/// A field of an announced tenant a read model may keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TenantField {
    ContractId,
    Name,
    Region,
    WorkspaceId,
    /// Unix microseconds.
    CreatedAt,
    /// Whether the last announcement was its deletion.
    Deleted,
}

/// A field of an announced contract a read model may keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContractField {
    Kind,
    ParentId,
    ExternalId,
}

/// A service's table of tenants, keyed by the tenant id.
pub trait TenantReadModel: EntityTrait + Default {
    /// The primary key column: the tenant id.
    fn id() -> Self::Column;
    /// The other columns kept, with the announced field each holds.
    fn fields() -> Vec<(Self::Column, TenantField)>;
    /// What a later announcement of this `change` changes of a tenant already kept; empty: the
    /// row stays as it is.
    fn changed_by(change: TenantChange) -> Vec<Self::Column>;
    /// The column of [`TenantField::ContractId`].
    fn contract_id() -> Self::Column;
}

/// A service's table of contracts, keyed by the contract id.
pub trait ContractReadModel: EntityTrait + Default {
    /// The primary key column: the contract id.
    fn id() -> Self::Column;
    /// The other columns kept, with the announced field each holds.
    fn fields() -> Vec<(Self::Column, ContractField)>;
    /// What a later announcement of a contract already kept changes; empty: the first stays.
    fn changed_by_later_events() -> Vec<Self::Column>;
}

fn tenant_value(ev: &TenantChanged, field: TenantField) -> Value {
    let t = &ev.tenant;
    match field {
        TenantField::ContractId => t.contract_id.clone().into(),
        TenantField::Name => t.name.clone().into(),
        TenantField::Region => t.region.clone().into(),
        TenantField::WorkspaceId => t.workspace_id.clone().into(),
        TenantField::CreatedAt => t.created_at.timestamp_micros().into(),
        TenantField::Deleted => (ev.change == TenantChange::Deleted).into(),
    }
}

fn contract_value(ev: &ContractChanged, field: ContractField) -> Value {
    let c = &ev.contract;
    match field {
        ContractField::Kind => c.kind.into(),
        ContractField::ParentId => c.parent_id.clone().into(),
        ContractField::ExternalId => c.external_id.clone().into(),
    }
}

/// Inserts `id` + `values` into `E`'s table; a row already there gets `changed` (or is kept).
async fn upsert<E: EntityTrait + Default, C: ConnectionTrait>(
    db: &C,
    id_col: E::Column,
    id: String,
    cols: Vec<(E::Column, Value)>,
    changed: Vec<E::Column>,
) -> AppResult<()> {
    let mut stmt = Query::insert();
    stmt.into_table(E::default())
        .columns(std::iter::once(id_col).chain(cols.iter().map(|(c, _)| *c)))
        .values_panic(
            std::iter::once(Value::from(id).into()).chain(cols.into_iter().map(|(_, v)| v.into())),
        );
    let on_conflict = if changed.is_empty() {
        OnConflict::column(id_col).do_nothing().to_owned()
    } else {
        OnConflict::column(id_col)
            .update_columns(changed)
            .to_owned()
    };
    stmt.on_conflict(on_conflict);
    db.execute(&stmt).await?;
    Ok(())
}

/// Keeps a tenant as announced (idempotent: the same event twice leaves the same row).
pub async fn keep_tenant<E: TenantReadModel, C: ConnectionTrait>(
    db: &C,
    ev: &TenantChanged,
) -> AppResult<()> {
    let cols = E::fields()
        .into_iter()
        .map(|(c, f)| (c, tenant_value(ev, f)))
        .collect();
    upsert::<E, C>(
        db,
        E::id(),
        ev.tenant.id.clone(),
        cols,
        E::changed_by(ev.change),
    )
    .await
}

/// Keeps a contract as announced (idempotent: the same event twice leaves the same row).
pub async fn keep_contract<E: ContractReadModel, C: ConnectionTrait>(
    db: &C,
    ev: &ContractChanged,
) -> AppResult<()> {
    let cols = E::fields()
        .into_iter()
        .map(|(c, f)| (c, contract_value(ev, f)))
        .collect();
    upsert::<E, C>(
        db,
        E::id(),
        ev.contract.id.clone(),
        cols,
        E::changed_by_later_events(),
    )
    .await
}

/// The rows whose `col` is among `values`, in as many queries as the list needs.
async fn rows_where_in<E: EntityTrait, C: ConnectionTrait>(
    db: &C,
    col: E::Column,
    values: &[String],
) -> AppResult<Vec<E::Model>> {
    let mut out = Vec::new();
    for chunk in values.chunks(IDS_PER_QUERY) {
        out.extend(
            E::find()
                .filter(col.is_in(chunk.iter().cloned()))
                .all(db)
                .await?,
        );
    }
    Ok(out)
}

/// The kept tenants among `ids` (unknown ids are absent).
pub async fn tenants<E: TenantReadModel, C: ConnectionTrait>(
    db: &C,
    ids: &[String],
) -> AppResult<Vec<E::Model>> {
    rows_where_in::<E, C>(db, E::id(), ids).await
}

/// The kept tenants of the contracts `contract_ids`.
pub async fn tenants_of<E: TenantReadModel, C: ConnectionTrait>(
    db: &C,
    contract_ids: &[String],
) -> AppResult<Vec<E::Model>> {
    rows_where_in::<E, C>(db, E::contract_id(), contract_ids).await
}

/// The kept contracts among `ids` (unknown ids are absent).
pub async fn contracts<E: ContractReadModel, C: ConnectionTrait>(
    db: &C,
    ids: &[String],
) -> AppResult<Vec<E::Model>> {
    rows_where_in::<E, C>(db, E::id(), ids).await
}

/// The column that keeps `field`, or `INTERNAL` for a read model that does not keep it.
fn column_of<E: ContractReadModel>(field: ContractField) -> AppResult<E::Column> {
    E::fields()
        .into_iter()
        .find(|(_, f)| *f == field)
        .map(|(c, _)| c)
        .ok_or_else(|| {
            ecl_kernel::AppError::internal(format!("this read model keeps no {field:?}"))
        })
}

/// Which of `ids` are kept as contracts of `kind` (e.g. the children, who may use only resellable
/// menus).
pub async fn contracts_of_kind<E: ContractReadModel, C: ConnectionTrait>(
    db: &C,
    ids: &[String],
    kind: ContractKind,
) -> AppResult<Vec<E::Model>> {
    let kind_col = column_of::<E>(ContractField::Kind)?;
    let mut out = Vec::new();
    for chunk in ids.chunks(IDS_PER_QUERY) {
        out.extend(
            E::find()
                .filter(E::id().is_in(chunk.iter().cloned()))
                .filter(kind_col.eq(kind))
                .all(db)
                .await?,
        );
    }
    Ok(out)
}

/// The kept children of the contracts `parent_ids`.
pub async fn children<E: ContractReadModel, C: ConnectionTrait>(
    db: &C,
    parent_ids: &[String],
) -> AppResult<Vec<E::Model>> {
    rows_where_in::<E, C>(db, column_of::<E>(ContractField::ParentId)?, parent_ids).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use ecl_proto::{
        contract::{ContractChange, ContractStatus, ContractView},
        tenant::TenantView,
    };
    use sea_orm::{Database, DatabaseConnection};

    mod tenant {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = "kept_tenants")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: String,
            pub contract_id: String,
            pub region: String,
            pub created_at: i64,
            pub deleted: bool,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }

    mod contract {
        use ecl_proto::contract::ContractKind;
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = "kept_contracts")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: String,
            pub kind: ContractKind,
            pub external_id: Option<String>,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }

    impl TenantReadModel for tenant::Entity {
        fn id() -> tenant::Column {
            tenant::Column::Id
        }
        fn fields() -> Vec<(tenant::Column, TenantField)> {
            use tenant::Column as C;
            vec![
                (C::ContractId, TenantField::ContractId),
                (C::Region, TenantField::Region),
                (C::CreatedAt, TenantField::CreatedAt),
                (C::Deleted, TenantField::Deleted),
            ]
        }
        /// As billing keeps names: only an update changes the region (here) as announced.
        fn changed_by(change: TenantChange) -> Vec<tenant::Column> {
            match change {
                TenantChange::Updated => vec![tenant::Column::Region, tenant::Column::Deleted],
                TenantChange::Created | TenantChange::Deleted => vec![tenant::Column::Deleted],
            }
        }
        fn contract_id() -> tenant::Column {
            tenant::Column::ContractId
        }
    }

    impl ContractReadModel for contract::Entity {
        fn id() -> contract::Column {
            contract::Column::Id
        }
        fn fields() -> Vec<(contract::Column, ContractField)> {
            vec![
                (contract::Column::Kind, ContractField::Kind),
                (contract::Column::ExternalId, ContractField::ExternalId),
            ]
        }
        fn changed_by_later_events() -> Vec<contract::Column> {
            vec![contract::Column::ExternalId]
        }
    }

    async fn db() -> DatabaseConnection {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        for (table, _) in [
            crate::schema_check::entity_ddl(db.get_database_backend(), tenant::Entity),
            crate::schema_check::entity_ddl(db.get_database_backend(), contract::Entity),
        ] {
            db.execute(&table).await.unwrap();
        }
        db
    }

    fn tenant_ev(id: &str, contract: &str, region: &str, change: TenantChange) -> TenantChanged {
        TenantChanged {
            tenant: TenantView {
                id: id.into(),
                contract_id: contract.into(),
                name: "t".into(),
                region: region.into(),
                workspace_id: "wsp".into(),
                created_at: Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap(),
            },
            change,
        }
    }

    fn contract_ev(id: &str, kind: ContractKind, external: Option<&str>) -> ContractChanged {
        ContractChanged {
            contract: ContractView {
                id: id.into(),
                kind,
                parent_id: None,
                name: "c".into(),
                external_id: external.map(Into::into),
                status: ContractStatus::Active,
                customer: None,
                owner_user_id: None,
                created_at: Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap(),
                abolished_at: None,
                managed: false,
            },
            change: ContractChange::Created,
        }
    }

    #[tokio::test]
    async fn tenants_are_kept_once_and_only_the_named_columns_change() {
        let db = db().await;
        let created = tenant_ev("ten_1", "econ0000000001", "jp1", TenantChange::Created);
        keep_tenant::<tenant::Entity, _>(&db, &created)
            .await
            .unwrap();
        keep_tenant::<tenant::Entity, _>(&db, &created)
            .await
            .unwrap();
        keep_tenant::<tenant::Entity, _>(
            &db,
            &tenant_ev("ten_2", "econ0000000002", "us1", TenantChange::Created),
        )
        .await
        .unwrap();
        // A later announcement changes `deleted`, not the region this table keeps from the first.
        let deleted = tenant_ev("ten_1", "econ0000000001", "moved", TenantChange::Deleted);
        keep_tenant::<tenant::Entity, _>(&db, &deleted)
            .await
            .unwrap();
        let rows = tenants::<tenant::Entity, _>(&db, &["ten_1".into(), "ten_9".into()])
            .await
            .unwrap();
        assert_eq!(
            rows,
            [tenant::Model {
                id: "ten_1".into(),
                contract_id: "econ0000000001".into(),
                region: "jp1".into(),
                created_at: created.tenant.created_at.timestamp_micros(),
                deleted: true,
            }]
        );
        let of = tenants_of::<tenant::Entity, _>(&db, &["econ0000000002".into()])
            .await
            .unwrap();
        assert_eq!(of.len(), 1);
        assert_eq!(of[0].id, "ten_2");
        assert!(!of[0].deleted);
        // An update changes what this table says an update changes; a late creation does not
        // take it back.
        for (region, change) in [
            ("us2", TenantChange::Updated),
            ("us1", TenantChange::Created),
        ] {
            keep_tenant::<tenant::Entity, _>(
                &db,
                &tenant_ev("ten_2", "econ0000000002", region, change),
            )
            .await
            .unwrap();
        }
        let of = tenants::<tenant::Entity, _>(&db, &["ten_2".into()])
            .await
            .unwrap();
        assert_eq!((of[0].region.as_str(), of[0].deleted), ("us2", false));
    }

    #[tokio::test]
    async fn contracts_keep_their_kind_as_the_text_it_travels_as() {
        let db = db().await;
        keep_contract::<contract::Entity, _>(
            &db,
            &contract_ev("econ0000000001", ContractKind::Child, None),
        )
        .await
        .unwrap();
        keep_contract::<contract::Entity, _>(
            &db,
            &contract_ev("econ0000000002", ContractKind::Partner, None),
        )
        .await
        .unwrap();
        keep_contract::<contract::Entity, _>(
            &db,
            &contract_ev("econ0000000001", ContractKind::Child, Some("ext-1")),
        )
        .await
        .unwrap();
        let ids = ["econ0000000001".to_string(), "econ0000000002".to_string()];
        let kids = contracts_of_kind::<contract::Entity, _>(&db, &ids, ContractKind::Child)
            .await
            .unwrap();
        assert_eq!(kids.len(), 1);
        assert_eq!(kids[0].external_id.as_deref(), Some("ext-1"));
        // Stored as the wire spelling, as the `String` column held it.
        let raw = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT kind FROM kept_contracts WHERE id = 'econ0000000002'",
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(raw.try_get::<String>("", "kind").unwrap(), "PARTNER");
        assert_eq!(
            contracts::<contract::Entity, _>(&db, &ids)
                .await
                .unwrap()
                .len(),
            2
        );
        // This table keeps no parent: asking for children is a fault, not an empty answer.
        let e = children::<contract::Entity, _>(&db, &ids)
            .await
            .unwrap_err();
        assert_eq!(e.code, ecl_kernel::ErrorCode::Internal);
    }
}
