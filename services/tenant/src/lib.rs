//! Tenant-access service (SPEC §3): tenants of a contract and users' access rights to them.
//! Tenants are created and deleted by the contract's owner/admins and, for a child, by the
//! partner's (within their contract groups); an abolished contract's tenants are deleted. Users
//! work in a tenant when granted access (`grants.rs`); tenants sit in workspaces (`workspaces.rs`).
//!
//! Read top-down: the descriptor ([`module`]), then what it routes (the handler table in `init`),
//! then one file per use case:
//!
//! | file | rule |
//! | --- | --- |
//! | `create_tenant.rs` | a contract's managers create its tenants, in a known region, while the contract is active |
//! | `delete_tenant.rs` | a contract's managers delete a tenant; its grants go with it |
//! | `abolished_contract.rs` | an abolished contract's tenants and grants are deleted |
//! | `update_tenant.rs` | a tenant's name and workspace, changed by those who may create it |
//! | `list_tenants.rs` | the tenants of the contracts the caller sees: all for managers, the granted ones for general users |
//! | `count_tenants.rs` | how many tenants each contract the caller sees has |
//! | `lookup.rs` | tenants by id, visible exactly as when walking to them |
//! | `tenant_filter.rs` | which tenants a list shows |
//! | `grants.rs` | access rights: granted and revoked by the tenant's managers; a deleted user's go |
//! | `workspaces.rs` | workspaces: a default one per contract, created, renamed, looked up |
//! | `audience.rs` | the tenants a failure or maintenance notice concerns, with who may work in each |
//! | `migration.rs`, `entity.rs` | the service's tables |

use ecl_bus::{Bus, CallCtx, EventRouter, Router};
use ecl_kernel::{AppResult, SharedClock};
use ecl_proto::{
    Event,
    contract::{ContractChanged, ContractView, GetContract},
    identity::UserDeleted,
    tenant::{
        CountTenants, CreateTenant, CreateWorkspace, DeleteTenant, GetTenants, GetWorkspaces,
        ListTenantUsers, ListTenants, ListUserTenants, ListWorkspaces, NoticeTenants,
        SetTenantAccess, TenantView, UpdateTenant, UpdateWorkspace,
    },
};
use ecl_runtime::{Ctx, Module, Need, Started, db_ready};
use ecl_store::{Inbox, Outbox};
use entity::tenant;
use migration::Migrator;
use sea_orm::DatabaseConnection;
use std::sync::Arc;

mod abolished_contract;
mod audience;
mod count_tenants;
mod create_tenant;
mod delete_tenant;
pub mod entity;
mod grants;
mod list_tenants;
mod lookup;
mod migration;
mod tenant_filter;
mod update_tenant;
mod workspaces;

pub const NAME: &str = "tenant";

pub fn module() -> Module {
    Module {
        name: NAME,
        about: "tenants, workspaces and access rights",
        needs: &[Need::Store, Need::Bus],
        init: |ctx| Box::pin(init(ctx)),
    }
}

pub struct Tenants {
    db: DatabaseConnection,
    bus: Bus,
    clock: SharedClock,
    outbox: Outbox,
    inbox: Inbox,
}

async fn init(ctx: Ctx) -> anyhow::Result<Started> {
    let db = ctx.store(NAME).await?;
    ecl_store::migrate::<Migrator>(&db, NAME).await?;
    let outbox = Outbox::start(db.clone(), ctx.bus.clone(), NAME);
    let inbox = Inbox::start(db.clone(), NAME);
    let svc = Arc::new(Tenants {
        db: db.clone(),
        bus: ctx.bus.clone(),
        clock: ctx.clock.clone(),
        outbox,
        inbox: inbox.clone(),
    });
    let router =
        Router::default()
            .route(
                |s: Arc<Tenants>, ctx, req: CreateTenant| async move { s.create(&ctx, req).await },
            )
            .route(|s: Arc<Tenants>, ctx, req: DeleteTenant| async move {
                s.delete(&ctx, &req.id).await
            })
            .route(|s: Arc<Tenants>, ctx, req: UpdateTenant| async move {
                s.update_tenant(&ctx, req).await
            })
            .route(|s: Arc<Tenants>, ctx, req: GetTenants| async move {
                s.get_tenants(&ctx, req).await
            })
            .route(|s: Arc<Tenants>, ctx, req: ListTenants| async move { s.list(&ctx, req).await })
            .route(
                |s: Arc<Tenants>, ctx, req: CountTenants| async move { s.count(&ctx, req).await },
            )
            .route(|s: Arc<Tenants>, ctx, req: CreateWorkspace| async move {
                s.create_workspace(&ctx, req).await
            })
            .route(|s: Arc<Tenants>, ctx, req: ListWorkspaces| async move {
                s.list_workspaces(&ctx, req).await
            })
            .route(|s: Arc<Tenants>, ctx, req: UpdateWorkspace| async move {
                s.update_workspace(&ctx, req).await
            })
            .route(|s: Arc<Tenants>, ctx, req: GetWorkspaces| async move {
                s.get_workspaces(&ctx, req).await
            })
            .route(|s: Arc<Tenants>, ctx, req: SetTenantAccess| async move {
                s.set_access(&ctx, req).await
            })
            .route(|s: Arc<Tenants>, ctx, req: ListTenantUsers| async move {
                s.tenant_users(&ctx, req).await
            })
            .route(|s: Arc<Tenants>, ctx, req: ListUserTenants| async move {
                s.user_tenants(&ctx, req).await
            })
            .route(|s: Arc<Tenants>, ctx, req: NoticeTenants| async move {
                s.notice_tenants(&ctx, req).await
            });
    // An abolished contract loses its tenants (abolish refuses while tenants exist unless forced),
    // and a deleted user their access rights.
    // Each handler's writes share the inbox's transaction: a redelivered event has no effect.
    let events = EventRouter::default()
        .on(|s: Arc<Tenants>, ctx, id, ev: ContractChanged| async move {
            if ev.change != ecl_proto::contract::ContractChange::Abolished {
                return Ok(());
            }
            let svc = s.clone();
            let handled = s
                .inbox
                .handle(&id, ContractChanged::TOPIC, |txn| {
                    Box::pin(async move { svc.purge(txn, &ctx, &ev.contract.id).await })
                })
                .await?;
            if handled.is_some() {
                s.outbox.wake();
            }
            Ok(())
        })
        .on(|s: Arc<Tenants>, _ctx, id, ev: UserDeleted| async move {
            let svc = s.clone();
            s.inbox
                .handle(&id, UserDeleted::TOPIC, |txn| {
                    Box::pin(async move { svc.forget_user(txn, &ev.user_id).await })
                })
                .await?;
            Ok(())
        });
    ecl_runtime::serve(&ctx.bus, NAME, svc, router, events, Some(&inbox)).await?;
    Ok(Started {
        http: None,
        ready: vec![db_ready(db)],
    })
}

fn view(t: &tenant::Model) -> TenantView {
    TenantView {
        id: t.id.clone(),
        contract_id: t.contract_id.clone(),
        name: t.name.clone(),
        region: t.region.clone(),
        workspace_id: t.workspace_id.clone(),
        created_at: chrono::DateTime::from_timestamp_micros(t.created_at).unwrap_or_default(),
    }
}

impl Tenants {
    /// The contract as the caller may see it (the contract service decides visibility).
    async fn contract(&self, ctx: &CallCtx, id: &str) -> AppResult<ContractView> {
        self.bus
            .call(ctx, &GetContract { id: id.to_string() })
            .await
    }
}
