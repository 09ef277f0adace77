//! The provider operator's first account (SPEC §1: the provider operator creates partner and
//! direct contracts): created on the first start with the configured password, or a generated one
//! printed once; replicas starting together agree (the one that wins the race stands).

use crate::{ACTIVE, Identity, entity::user, password};
use ecl_kernel::Role;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

impl Identity {
    pub(crate) async fn bootstrap_operator(&self, password: Option<String>) -> anyhow::Result<()> {
        if user::Entity::find()
            .filter(user::Column::LoginId.eq("operator"))
            .one(&self.db)
            .await?
            .is_some()
        {
            return Ok(());
        }
        let (password, generated) = match password {
            Some(p) => (p, false),
            None => (format!("Op-{}", uuid::Uuid::new_v4().simple()), true),
        };
        let row = user::ActiveModel {
            id: Set(ecl_kernel::ids::new_id("usr")),
            contract_id: Set(None),
            login_id: Set("operator".into()),
            email: Set("operator@localhost".into()),
            password_hash: Set(password::hash(password.clone()).await?),
            role: Set(Role::Operator.as_str().into()),
            status: Set(ACTIVE.into()),
            sessions_valid_after: Set(0),
            failed_attempts: Set(0),
            failures_since: Set(0),
            locked_until: Set(0),
            can_view_usage: Set(true),
            created_at: Set(self.clock.now().timestamp_micros()),
        };
        match row.insert(&self.db).await {
            Ok(_) => {}
            // Another replica won the race: its operator stands.
            Err(e)
                if ecl_kernel::unique_violation(&e)
                    .is_some_and(|v| v.is_on("users", &["login_id"])) =>
            {
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        }
        if generated {
            // Printed once, on the very first start, so the operator can sign in.
            println!(
                "ECL bootstrap: created login id `operator` with password `{password}` (shown once)"
            );
        } else {
            tracing::info!("created the bootstrap operator account");
        }
        Ok(())
    }
}
