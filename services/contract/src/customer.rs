//! A contract's customer information (SPEC §2) as entered on creation and change.

use ecl_kernel::{AppResult, Validation, validate};
use ecl_proto::contract::Customer;

/// Validated customer information (company and contact e-mail required; the rest optional),
/// every bad field at once.
pub(crate) fn customer_input(c: &Customer) -> AppResult<Customer> {
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
