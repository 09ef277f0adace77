//! Changing one's own password (SPEC §4): the current password is verified, the new one checked
//! against the password policy and hashed with argon2id, and every session of the user ends, this
//! one included.

use crate::{Identity, entity::user, password};
use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult};
use ecl_proto::identity::ChangePassword;
use sea_orm::{ActiveModelTrait, Set};

impl Identity {
    pub async fn change_password(&self, ctx: &CallCtx, req: ChangePassword) -> AppResult<()> {
        let u = self.current_user(ctx).await?;
        if !password::verify(req.old_password, u.password_hash.clone()).await? {
            return Err(AppError::invalid(
                "oldPassword",
                "the current password is wrong",
            ));
        }
        password::check_policy(&req.new_password, &u.login_id)?;
        let mut am: user::ActiveModel = u.into();
        am.password_hash = Set(password::hash(req.new_password).await?);
        // Every session of the user ends, this one included.
        am.sessions_valid_after = Set(self.clock.now().timestamp() + 1);
        am.update(&self.db).await?;
        Ok(())
    }
}
