//! Checking every field of an input before answering, so a form with five bad fields learns all
//! five in one `INVALID_INPUT` error (each with its `field`), not one per attempt.

use crate::error::{AppError, AppResult, ErrorCode, FieldError};

/// Collects field errors; [`Validation::finish`] fails with all of them, or, when every field was
/// fine, with the first error that was not about a field (a refusal, the database away).
#[derive(Debug, Default)]
#[must_use = "finish() reports what was collected"]
pub struct Validation {
    fields: Vec<FieldError>,
    other: Option<AppError>,
}

impl Validation {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `message` for `field` unless `ok`.
    pub fn check(&mut self, field: &str, ok: bool, message: impl Into<String>) -> &mut Self {
        if !ok {
            self.fields.push(FieldError {
                field: field.to_string(),
                message: message.into(),
            });
        }
        self
    }

    /// Records an error (all its fields when it is invalid input).
    pub fn add(&mut self, e: AppError) -> &mut Self {
        if e.code == ErrorCode::InvalidInput && !e.fields.is_empty() {
            self.fields.extend(e.fields);
        } else if self.other.is_none() {
            self.other = Some(e);
        }
        self
    }

    /// The value of one field's parse, or a placeholder while its error is recorded: the
    /// placeholder is never used, since [`Validation::finish`] then fails.
    pub fn value<T: Default>(&mut self, parsed: AppResult<T>) -> T {
        parsed.unwrap_or_else(|e| {
            self.add(e);
            T::default()
        })
    }

    /// One field's parse, its error also recorded: after a successful [`Validation::finish`]
    /// every noted result is `Ok`, so `?` on it only unwraps (for values with no placeholder).
    pub fn note<T>(&mut self, parsed: AppResult<T>) -> AppResult<T> {
        if let Err(e) = &parsed {
            self.add(e.clone());
        }
        parsed
    }

    /// Is some field bad so far?
    pub fn has_bad_fields(&self) -> bool {
        !self.fields.is_empty()
    }

    /// `Ok` when every check passed; otherwise one error with every bad field.
    pub fn finish(&mut self) -> AppResult<()> {
        if !self.fields.is_empty() {
            return Err(AppError::invalid_fields(std::mem::take(&mut self.fields)));
        }
        match self.other.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bad_field_is_reported_the_first_also_as_field() {
        let e = Validation::new()
            .check("name", false, "name must not be empty")
            .check("fine", true, "never said")
            .check("email", false, "email is not a valid e-mail address")
            .finish()
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidInput);
        assert_eq!(e.field.as_deref(), Some("name"));
        let fields: Vec<_> = e.fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["name", "email"]);
        assert!(e.message.contains("name must not be empty"));
        assert!(e.message.contains("not a valid e-mail"));
    }

    #[test]
    fn nested_inputs_add_all_their_fields_other_errors_come_when_the_fields_are_fine() {
        let mut v = Validation::new();
        let n: String = v.value(Err(AppError::invalid_fields(vec![
            FieldError {
                field: "a".into(),
                message: "bad a".into(),
            },
            FieldError {
                field: "b".into(),
                message: "bad b".into(),
            },
        ])
        .within("owner")));
        assert_eq!(n, "");
        v.check("c", false, "bad c");
        let e = v.finish().unwrap_err();
        let fields: Vec<_> = e.fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["owner.a", "owner.b", "c"]);
        assert_eq!(e.field.as_deref(), Some("owner.a"));

        let mut v = Validation::new();
        v.check("x", false, "bad x");
        v.add(AppError::forbidden("not yours"));
        assert!(v.has_bad_fields());
        assert_eq!(v.finish().unwrap_err().code, ErrorCode::InvalidInput);
        let mut v = Validation::new();
        v.add(AppError::unavailable("database away"));
        assert!(!v.has_bad_fields());
        assert_eq!(v.finish().unwrap_err().code, ErrorCode::Unavailable);
        assert!(Validation::new().check("ok", true, "").finish().is_ok());
    }

    #[test]
    fn fields_cross_the_wire_intact() {
        let e = Validation::new()
            .check("a", false, "bad a")
            .check("b", false, "bad b")
            .finish()
            .unwrap_err();
        let back: AppError = serde_json::from_slice(&serde_json::to_vec(&e).unwrap()).unwrap();
        assert_eq!(back, e);
        // An error from a process that predates `fields` still reads.
        let old: AppError =
            serde_json::from_str(r#"{"code":"INVALID_INPUT","message":"m","field":"f"}"#).unwrap();
        assert_eq!(old.field.as_deref(), Some("f"));
    }
}
