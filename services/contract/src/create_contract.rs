//! Creating a contract (SPEC §2): the operator creates partner and direct contracts, a partner's
//! managers its children; the owner user is created by identity first and removed again if the
//! contract cannot be stored.

use crate::{
    ACTIVE, Contracts, NAME, access::Access, customer::customer_input, entity::contract,
    external_id::external_id_input, views::view,
};
use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult, ContractId, Principal, Role, Validation, validate};
use ecl_proto::{
    contract::{ContractChange, ContractChanged, ContractKind, ContractView, CreateContract},
    identity::{CheckNewUser, CreateUser, DeleteUser},
};
use sea_orm::{ActiveModelTrait, Set, TransactionTrait};

impl Contracts {
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
                if parent.kind != ContractKind::Partner {
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
            kind: Set(req.kind),
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
                        change: ContractChange::Created,
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
}
