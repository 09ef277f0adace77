//! Contract service (SPEC §2): partner (parent), child and direct contracts, their customer
//! information, search, change and abolition. It is the authority on the contract tree, so other
//! services ask it how a caller relates to a contract.

mod access;
mod audience;
mod entity;
mod groups;
mod migration;

use access::Access;
use ecl_bus::{Bus, CallCtx, EventRouter, Router};
use ecl_kernel::{
    AppError, AppResult, ContractId, Principal, Role, SharedClock, Validation, validate,
};
use ecl_proto::{
    Event, Page, PageArgs,
    contract::*,
    identity::{CheckNewUser, CreateUser, DeleteUser, UserDeleted},
    tenant::CountTenants,
};
use ecl_runtime::{Ctx, Module, Need, Started, db_ready};
use ecl_store::{Inbox, Outbox};
use entity::contract;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter, Set, TransactionTrait,
};
use std::sync::Arc;

pub const NAME: &str = "contract";
const ACTIVE: &str = "ACTIVE";
const ABOLISHED: &str = "ABOLISHED";

pub fn module() -> Module {
    Module {
        name: NAME,
        about: "partner, child and direct contracts; contract groups; coupons",
        needs: &[Need::Store, Need::Bus],
        init: |ctx| Box::pin(init(ctx)),
    }
}

pub struct Contracts {
    db: DatabaseConnection,
    bus: Bus,
    clock: SharedClock,
    outbox: Outbox,
    inbox: Inbox,
}

async fn init(ctx: Ctx) -> anyhow::Result<Started> {
    let db = ctx.store(NAME).await?;
    ecl_store::migrate::<migration::Migrator>(&db, NAME).await?;
    let outbox = Outbox::start(db.clone(), ctx.bus.clone(), NAME);
    let inbox = Inbox::start(db.clone(), NAME);
    let svc = Arc::new(Contracts {
        db: db.clone(),
        bus: ctx.bus.clone(),
        clock: ctx.clock.clone(),
        outbox,
        inbox: inbox.clone(),
    });
    // A deleted user leaves the contract groups they were assigned to (in the inbox's
    // transaction: a redelivered event has no effect).
    let events =
        EventRouter::default().on(|s: Arc<Contracts>, _ctx, id, ev: UserDeleted| async move {
            let svc = s.clone();
            s.inbox
                .handle(&id, UserDeleted::TOPIC, |txn| {
                    Box::pin(async move { svc.forget_user(txn, &ev.user_id).await })
                })
                .await?;
            Ok(())
        });
    ecl_runtime::serve(&ctx.bus, NAME, svc, router(), events, Some(&inbox)).await?;
    Ok(Started {
        http: None,
        ready: vec![db_ready(db)],
    })
}

fn router() -> Router<Contracts> {
    Router::default()
        .route(|s: Arc<Contracts>, ctx, req: CreateContract| async move { s.create(&ctx, req).await })
        .route(|s: Arc<Contracts>, ctx, req: UpdateContract| async move { s.update(&ctx, req).await })
        .route(|s: Arc<Contracts>, ctx, req: AbolishContract| async move { s.abolish(&ctx, req).await })
        .route(|s: Arc<Contracts>, ctx, req: GetContract| async move { s.get(&ctx, &req.id).await })
        .route(|s: Arc<Contracts>, ctx, req: GetContracts| async move { s.get_many(&ctx, req.ids).await })
        .route(|s: Arc<Contracts>, ctx, req: SearchContracts| async move { s.search(&ctx, req).await })
        .route(|s: Arc<Contracts>, ctx, req: ListChildren| async move { s.children(&ctx, req).await })
        .route(|s: Arc<Contracts>, ctx, req: CreateContractGroup| async move { s.create_group(&ctx, req).await })
        .route(|s: Arc<Contracts>, ctx, req: SetGroupChild| async move { s.set_group_child(&ctx, req).await })
        .route(|s: Arc<Contracts>, ctx, req: SetGroupUser| async move { s.set_group_user(&ctx, req).await })
        .route(|s: Arc<Contracts>, ctx, req: ListContractGroups| async move { s.list_groups(&ctx, req).await })
        .route(|s: Arc<Contracts>, ctx, req: NoticeAudience| async move { s.notice_audience(&ctx, req).await })
}

fn kind_str(k: ContractKind) -> &'static str {
    match k {
        ContractKind::Direct => "DIRECT",
        ContractKind::Partner => "PARTNER",
        ContractKind::Child => "CHILD",
    }
}

fn parse_kind(s: &str) -> ContractKind {
    match s {
        "PARTNER" => ContractKind::Partner,
        "CHILD" => ContractKind::Child,
        _ => ContractKind::Direct,
    }
}

fn ts(us: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_micros(us).unwrap_or_default()
}

/// The view of `c` for the caller: customer information only for those allowed to see it.
fn view(c: &contract::Model, access: &Access) -> ContractView {
    ContractView {
        id: c.id.clone(),
        kind: parse_kind(&c.kind),
        parent_id: c.parent_id.clone(),
        name: c.name.clone(),
        external_id: c.external_id.clone(),
        status: if c.status == ABOLISHED {
            ContractStatus::Abolished
        } else {
            ContractStatus::Active
        },
        managed: access.manages(c),
        customer: access.sees_customer(c).then(|| Customer {
            company: c.company.clone(),
            address: c.address.clone(),
            contact_name: c.contact_name.clone(),
            contact_email: c.contact_email.clone(),
        }),
        owner_user_id: c.owner_user_id.clone(),
        created_at: ts(c.created_at),
        abolished_at: c.abolished_at.map(ts),
    }
}

/// Validated customer information (company and contact e-mail required; the rest optional),
/// every bad field at once.
fn customer_input(c: &Customer) -> AppResult<Customer> {
    let mut v = Validation::new();
    let company = v.value(validate::text("customer.company", &c.company, 200));
    let mut optional = |field: &str, value: &str, max: usize| {
        let value = value.trim();
        v.check(
            field,
            value.chars().count() <= max,
            format!("{field} must be at most {max} characters"),
        );
        value.to_string()
    };
    let address = optional("customer.address", &c.address, 500);
    let contact_name = optional("customer.contactName", &c.contact_name, 200);
    let customer = Customer {
        company,
        address,
        contact_name,
        contact_email: v.value(validate::email("customer.contactEmail", &c.contact_email)),
    };
    v.finish()?;
    Ok(customer)
}

/// SPEC §2: a child's external id is the partner's own management number (free form, up to 64
/// characters); the provider's own contracts (direct, partner) carry a 15-digit number.
fn external_id_input(kind: ContractKind, v: &str) -> AppResult<Option<String>> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    if kind != ContractKind::Child {
        if v.len() != 15 || !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AppError::invalid(
                "externalId",
                "the external id of a direct or partner contract is a 15-digit number",
            ));
        }
        return Ok(Some(v.to_string()));
    }
    if v.chars().count() > 64
        || !v
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
    {
        return Err(AppError::invalid(
            "externalId",
            "external id must be up to 64 letters, digits or - _ . /",
        ));
    }
    Ok(Some(v.to_string()))
}

impl Contracts {
    /// The caller's access, with the contract groups that narrow a parent admin's or user's view.
    async fn access<'a>(&self, who: &'a Principal) -> AppResult<Access<'a>> {
        // A parent admin's or user's groups narrow them, and an API key its creator's groups:
        // a key never sees more children than the admin who made it.
        let only = match who {
            Principal::User {
                user_id,
                role: Role::Admin | Role::User,
                contract_id: Some(_),
                ..
            } => self.group_children_of(user_id).await?,
            Principal::ApiKey { creator, .. } if creator.role == Role::Admin => {
                self.group_children_of(&creator.user_id).await?
            }
            _ => None,
        };
        Ok(Access::new(who, only))
    }

    async fn find(&self, id: &str) -> AppResult<Option<contract::Model>> {
        ContractId::parse(id)?;
        Ok(contract::Entity::find_by_id(id.to_string())
            .one(&self.db)
            .await?)
    }

    /// The contract if the caller may see it; `NOT_FOUND` otherwise, so ids outside one's tree
    /// reveal nothing about whether they exist.
    async fn visible(&self, access: &Access<'_>, id: &str) -> AppResult<contract::Model> {
        match self.find(id).await? {
            Some(c) if access.sees(&c) => Ok(c),
            _ => Err(AppError::not_found(format!("contract {id}"))),
        }
    }

    /// `CONFLICT` when another child of `parent_id` (than `except`) has the external id `ext`.
    async fn external_id_free(
        &self,
        parent_id: &str,
        ext: &str,
        except: Option<&str>,
    ) -> AppResult<()> {
        let mut q = contract::Entity::find()
            .filter(contract::Column::ParentId.eq(parent_id.to_string()))
            .filter(contract::Column::ExternalId.eq(ext.to_string()));
        if let Some(id) = except {
            q = q.filter(contract::Column::Id.ne(id.to_string()));
        }
        if q.count(&self.db).await? > 0 {
            return Err(AppError::conflict(format!(
                "external id {ext} is already used by another child"
            )));
        }
        Ok(())
    }

    /// The parent a new contract names: a child's active partner the caller manages children of;
    /// none for partner and direct contracts, which only the operator creates.
    async fn parent_of(
        &self,
        access: &Access<'_>,
        req: &CreateContract,
    ) -> AppResult<Option<contract::Model>> {
        Ok(match (req.kind, req.parent_id.as_deref()) {
            (ContractKind::Child, Some(pid)) => {
                let parent = self.visible(access, pid).await?;
                if parent.kind != "PARTNER" {
                    return Err(AppError::invalid(
                        "parentId",
                        "child contracts belong to a partner contract",
                    ));
                }
                if parent.status != ACTIVE {
                    return Err(AppError::conflict("the partner contract is abolished"));
                }
                if !access.manages_children_of(&parent) {
                    return Err(AppError::forbidden(
                        "only the partner's owner and admins create child contracts",
                    ));
                }
                Some(parent)
            }
            (ContractKind::Child, None) => {
                return Err(AppError::invalid(
                    "parentId",
                    "a child contract needs its parent",
                ));
            }
            (_, Some(_)) => {
                return Err(AppError::invalid(
                    "parentId",
                    "only child contracts have a parent",
                ));
            }
            (_, None) => {
                if !access.is_operator() {
                    return Err(AppError::forbidden(
                        "only the operator creates partner and direct contracts",
                    ));
                }
                None
            }
        })
    }

    pub async fn create(&self, ctx: &CallCtx, req: CreateContract) -> AppResult<ContractView> {
        let who = &ctx.principal;
        let access = self.access(who).await?;
        // Every field is checked before answering, the owner's too (by identity, which owns the
        // rules for users): a form with several mistakes learns them all at once.
        let mut v = Validation::new();
        let name = v.value(validate::text("name", &req.name, 200));
        let external_id = v.value(external_id_input(
            req.kind,
            req.external_id.as_deref().unwrap_or(""),
        ));
        let customer = v.value(customer_input(&req.customer));
        let parent = v.value(self.parent_of(&access, &req).await);
        let system = ctx.as_principal(Principal::system(NAME));
        if v.has_bad_fields() {
            let check = CheckNewUser {
                login_id: req.owner.login_id.clone(),
                email: req.owner.email.clone(),
                password: req.owner.password.clone(),
            };
            if let Err(e) = self.bus.call(&system, &check).await {
                v.add(e.within("owner"));
            }
        }
        v.finish()?;
        if let (Some(p), Some(ext)) = (&parent, &external_id) {
            self.external_id_free(&p.id, ext, None).await?;
        }

        let id = ContractId::generate();
        // The owner first: identity validates login id, e-mail and password and may refuse
        // (e.g. login id taken) before anything is stored here.
        let owner = self
            .bus
            .call(
                &system,
                &CreateUser {
                    contract_id: id.to_string(),
                    login_id: req.owner.login_id,
                    email: req.owner.email,
                    password: req.owner.password,
                    role: Role::Owner,
                },
            )
            .await
            // Point the client at the owner input it sent.
            .map_err(|e| e.within("owner"))?;

        let row = contract::ActiveModel {
            id: Set(id.to_string()),
            kind: Set(kind_str(req.kind).into()),
            parent_id: Set(parent.map(|p| p.id)),
            name_lower: Set(name.to_lowercase()),
            name: Set(name),
            external_id: Set(external_id),
            status: Set(ACTIVE.into()),
            company: Set(customer.company),
            address: Set(customer.address),
            contact_name: Set(customer.contact_name),
            contact_email: Set(customer.contact_email),
            owner_user_id: Set(Some(owner.id.clone())),
            created_at: Set(self.clock.now().timestamp_micros()),
            abolished_at: Set(None),
        };
        let stored = async {
            let txn = self.db.begin().await?;
            let c = row.insert(&txn).await?;
            let v = view(&c, &access);
            self.outbox
                .add(
                    &txn,
                    &ctx.trace_id,
                    &ContractChanged {
                        contract: v.clone(),
                        change: ecl_proto::contract::ContractChange::Created,
                    },
                )
                .await?;
            txn.commit().await?;
            Ok::<_, AppError>(v)
        }
        .await;
        match stored {
            Ok(v) => {
                self.outbox.wake();
                Ok(v)
            }
            Err(e) => {
                // Compensate: the owner must not outlive a contract that was never stored.
                if let Err(ce) = self
                    .bus
                    .call(&system, &DeleteUser { user_id: owner.id })
                    .await
                {
                    tracing::error!("compensation failed, orphan owner user left: {ce}");
                }
                Err(e)
            }
        }
    }

    pub async fn update(&self, ctx: &CallCtx, req: UpdateContract) -> AppResult<ContractView> {
        let who = &ctx.principal;
        let access = self.access(who).await?;
        let c = self.visible(&access, &req.id).await?;
        if !access.may_change(&c) {
            return Err(AppError::forbidden("not allowed to change this contract"));
        }
        if c.status == ABOLISHED {
            return Err(AppError::conflict("the contract is abolished"));
        }
        // Every given field is checked before any is changed.
        let mut v = Validation::new();
        let name = req
            .name
            .as_deref()
            .map(|n| v.value(validate::text("name", n, 200)));
        let ext = req
            .external_id
            .as_deref()
            .map(|e| v.value(external_id_input(parse_kind(&c.kind), e)));
        let cust = match &req.customer {
            Some(_) if !access.sees_customer(&c) => {
                v.add(AppError::forbidden(
                    "only the owner changes customer information",
                ));
                None
            }
            Some(cust) => Some(v.value(customer_input(cust))),
            None => None,
        };
        v.finish()?;
        let mut am: contract::ActiveModel = c.clone().into();
        if let Some(name) = name {
            am.name_lower = Set(name.to_lowercase());
            am.name = Set(name);
        }
        if let Some(ext) = ext {
            // Unique among the partner's children, as on creation.
            if let (Some(p), Some(e)) = (&c.parent_id, &ext) {
                self.external_id_free(p, e, Some(&c.id)).await?;
            }
            am.external_id = Set(ext);
        }
        if let Some(cust) = cust {
            am.company = Set(cust.company);
            am.address = Set(cust.address);
            am.contact_name = Set(cust.contact_name);
            am.contact_email = Set(cust.contact_email);
        }
        let txn = self.db.begin().await?;
        let c = am.update(&txn).await?;
        let v = view(&c, &access);
        self.outbox
            .commit_with(
                txn,
                &ctx.trace_id,
                &ContractChanged {
                    contract: v.clone(),
                    change: ecl_proto::contract::ContractChange::Updated,
                },
            )
            .await?;
        Ok(v)
    }

    pub async fn abolish(&self, ctx: &CallCtx, req: AbolishContract) -> AppResult<ContractView> {
        let who = &ctx.principal;
        let access = self.access(who).await?;
        let c = self.visible(&access, &req.id).await?;
        let allowed = match &c.parent_id {
            Some(_) => who.is_operator() || access.manages_child(&c),
            None => who.is_operator(),
        };
        if !allowed {
            return Err(AppError::forbidden("not allowed to abolish this contract"));
        }
        if c.status == ABOLISHED {
            return Ok(view(&c, &access)); // idempotent
        }
        let active_children = contract::Entity::find()
            .filter(contract::Column::ParentId.eq(c.id.clone()))
            .filter(contract::Column::Status.eq(ACTIVE))
            .count(&self.db)
            .await?;
        if active_children > 0 {
            return Err(AppError::conflict(format!(
                "the contract still has {active_children} active child contracts"
            )));
        }
        let counts = self
            .bus
            .call(
                ctx,
                &CountTenants {
                    contract_ids: vec![c.id.clone()],
                },
            )
            .await?;
        let tenants: u64 = counts.iter().map(|(_, n)| n).sum();
        if tenants > 0 && !req.force {
            return Err(AppError::conflict(format!(
                "the contract still has {tenants} tenants; abolish with force to delete them"
            )));
        }
        let mut am: contract::ActiveModel = c.into();
        am.status = Set(ABOLISHED.into());
        am.abolished_at = Set(Some(self.clock.now().timestamp_micros()));
        let txn = self.db.begin().await?;
        let c = am.update(&txn).await?;
        let v = view(&c, &access);
        // Tenant and identity services react to this event (delete tenants, revoke users).
        self.outbox
            .commit_with(
                txn,
                &ctx.trace_id,
                &ContractChanged {
                    contract: v.clone(),
                    change: ecl_proto::contract::ContractChange::Abolished,
                },
            )
            .await?;
        Ok(v)
    }

    pub async fn get(&self, ctx: &CallCtx, id: &str) -> AppResult<ContractView> {
        let access = self.access(&ctx.principal).await?;
        Ok(view(&self.visible(&access, id).await?, &access))
    }

    pub async fn get_many(&self, ctx: &CallCtx, ids: Vec<String>) -> AppResult<Vec<ContractView>> {
        let ids: Vec<String> = ids
            .into_iter()
            .filter(|id| ContractId::parse(id).is_ok())
            .collect();
        let rows = contract::Entity::find()
            .filter(contract::Column::Id.is_in(ids))
            .all(&self.db)
            .await?;
        let access = self.access(&ctx.principal).await?;
        Ok(rows
            .iter()
            .filter(|c| access.sees(c))
            .map(|c| view(c, &access))
            .collect())
    }

    pub async fn search(
        &self,
        ctx: &CallCtx,
        req: SearchContracts,
    ) -> AppResult<Page<ContractView>> {
        let who = &ctx.principal;
        let access = self.access(who).await?;
        let scope = match (who.is_operator(), who.contract_id()) {
            (true, _) => Condition::all(),
            (false, Some(cid)) => access.search_scope(cid),
            (false, None) => return Err(AppError::unauthenticated()),
        };
        self.page(&access, scope, &req.filter, &req.page).await
    }

    pub async fn children(
        &self,
        ctx: &CallCtx,
        req: ListChildren,
    ) -> AppResult<Vec<(String, Page<ContractView>)>> {
        let who = &ctx.principal;
        let access = self.access(who).await?;
        let parents = contract::Entity::find()
            .filter(contract::Column::Id.is_in(req.parent_ids.clone()))
            .all(&self.db)
            .await?;
        let mut out = Vec::with_capacity(req.parent_ids.len());
        for pid in req.parent_ids {
            let scope = parents
                .iter()
                .find(|p| p.id == pid)
                .filter(|p| access.sees(p))
                .and_then(|p| access.children_scope(p));
            let page = match scope {
                Some(scope) => self.page(&access, scope, &req.filter, &req.page).await?,
                None => Page::empty(),
            };
            out.push((pid, page));
        }
        Ok(out)
    }

    /// One page of contracts within `scope` matching `filter`, ordered by (created_at, id).
    async fn page(
        &self,
        access: &Access<'_>,
        scope: Condition,
        filter: &ContractFilter,
        args: &PageArgs,
    ) -> AppResult<Page<ContractView>> {
        let mut cond = Condition::all().add(scope);
        if let Some(name) = filter
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            cond = cond.add(contract::Column::NameLower.contains(name.to_lowercase()));
        }
        if let Some(ext) = filter
            .external_id
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            cond = cond.add(contract::Column::ExternalId.eq(ext));
        }
        if let Some(st) = filter.status {
            cond = cond.add(
                contract::Column::Status.eq(if st == ContractStatus::Active {
                    ACTIVE
                } else {
                    ABOLISHED
                }),
            );
        }
        if let Some(k) = filter.kind {
            cond = cond.add(contract::Column::Kind.eq(kind_str(k)));
        }
        if let Some(from) = filter.created_from {
            cond = cond.add(contract::Column::CreatedAt.gte(from.timestamp_micros()));
        }
        if let Some(to) = filter.created_to {
            cond = cond.add(contract::Column::CreatedAt.lt(to.timestamp_micros()));
        }
        ecl_store::paging::page::<contract::Entity, _, _>(
            &self.db,
            cond,
            args,
            (contract::Column::CreatedAt, contract::Column::Id),
            |c| (c.created_at, c.id.clone()),
            |c| view(c, access),
        )
        .await
    }
}
