//! Why usage could not be rated.

/// Why usage could not be rated. Rating refuses rather than guesses: a wrong bill is worse
/// than a late one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RatingError {
    #[error("resource {resource}: menu {menu} is not in the price list")]
    UnknownMenu { resource: String, menu: String },
    #[error("resource {resource} belongs to menu {found}, not {expected}")]
    MenuMismatch {
        resource: String,
        expected: String,
        found: String,
    },
    #[error("menu {menu} has no plan {plan}")]
    UnknownPlan { menu: String, plan: String },
    #[error("menu {menu}, plan {plan}: a capped pattern needs a cap")]
    MissingCap { menu: String, plan: String },
    #[error("menu {menu}, plan {plan}: SQL Server on virtual servers needs the flavor's vCPUs")]
    MissingVcpus { menu: String, plan: String },
    #[error("menu {menu}: its special rule does not go with its charge pattern")]
    RuleNotAllowed { menu: String },
    #[error("resource {resource}: an interval ends before it starts or has a negative quantity")]
    InvalidInterval { resource: String },
}
