//! Kova's Python exceptions: one base, `KovaError`, and a subclass per kind of failure, mapped
//! from `kova_core::Error` by one exhaustive `match`.

use kova_core::Error;
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyType;

create_exception!(
    kova,
    KovaError,
    PyException,
    "Base class of every error Kova raises. `.retryable` says whether trying again later may succeed."
);
create_exception!(
    kova,
    InvalidInputError,
    KovaError,
    "Input failed validation; `.field` names what was wrong."
);
create_exception!(
    kova,
    SignatureError,
    KovaError,
    "A webhook signature was missing, malformed or wrong; `.reason` says which."
);
create_exception!(
    kova,
    NotFoundError,
    KovaError,
    "The thing asked for does not exist."
);
create_exception!(
    kova,
    ConflictError,
    KovaError,
    "The thing to create exists already, or the operation lost a race."
);
create_exception!(
    kova,
    UpstreamError,
    KovaError,
    "GitHub or Anthropic failed or refused; `.service`, and `.status` and `.retry_after` (seconds) when known."
);
create_exception!(
    kova,
    RateLimitedError,
    UpstreamError,
    "An upstream service asked us to slow down; `.retry_after` is seconds, or None."
);
create_exception!(kova, StoreError, KovaError, "The storage backend failed.");
create_exception!(
    kova,
    ConfigError,
    KovaError,
    "Configuration is wrong or missing (a URL, a file, a key)."
);

/// Registers the exception classes on the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("KovaError", py.get_type::<KovaError>())?;
    m.add("InvalidInputError", py.get_type::<InvalidInputError>())?;
    m.add("SignatureError", py.get_type::<SignatureError>())?;
    m.add("NotFoundError", py.get_type::<NotFoundError>())?;
    m.add("ConflictError", py.get_type::<ConflictError>())?;
    m.add("UpstreamError", py.get_type::<UpstreamError>())?;
    m.add("RateLimitedError", py.get_type::<RateLimitedError>())?;
    m.add("StoreError", py.get_type::<StoreError>())?;
    m.add("ConfigError", py.get_type::<ConfigError>())?;
    Ok(())
}

/// The attributes an exception carries besides its message.
#[derive(Default)]
struct Attrs {
    field: Option<String>,
    reason: Option<&'static str>,
    service: Option<String>,
    status: Option<u16>,
    retry_after: Option<f64>,
    backend: Option<&'static str>,
}

/// Converts a core error into the matching Python exception.
pub fn to_py_err(e: Error) -> PyErr {
    Python::attach(|py| build(py, e))
}

fn build(py: Python<'_>, e: Error) -> PyErr {
    let message = e.to_string();
    let retryable = e.is_retryable();
    let mut a = Attrs::default();
    // `Error` is #[non_exhaustive]: every variant known today is listed; a new one reaches
    // Python as the base `KovaError` until it is mapped here.
    let class: Bound<'_, PyType> = match e {
        Error::Invalid { field, .. } => {
            a.field = Some(field);
            py.get_type::<InvalidInputError>()
        }
        Error::ContextTooLong { .. } => {
            a.field = Some("prompt".into());
            py.get_type::<InvalidInputError>()
        }
        Error::NotFound { .. } => py.get_type::<NotFoundError>(),
        Error::AlreadyExists { .. } | Error::Conflict { .. } => py.get_type::<ConflictError>(),
        Error::Signature(reason) => {
            a.reason = Some(signature_reason(&reason));
            py.get_type::<SignatureError>()
        }
        Error::RateLimited {
            service,
            retry_after,
        } => {
            a.service = Some(service);
            a.retry_after = retry_after.map(|d| d.as_secs_f64());
            py.get_type::<RateLimitedError>()
        }
        Error::Unauthenticated { service, .. } => {
            a.service = Some(service);
            a.status = Some(401);
            py.get_type::<UpstreamError>()
        }
        Error::PermissionDenied { service, .. } => {
            a.service = Some(service);
            a.status = Some(403);
            py.get_type::<UpstreamError>()
        }
        Error::Upstream {
            service,
            status,
            retry_after,
            ..
        } => {
            a.service = Some(service);
            a.status = Some(status);
            a.retry_after = retry_after.map(|d| d.as_secs_f64());
            py.get_type::<UpstreamError>()
        }
        Error::Overloaded { service }
        | Error::Timeout { service }
        | Error::Connection { service, .. }
        | Error::Protocol { service, .. } => {
            a.service = Some(service);
            py.get_type::<UpstreamError>()
        }
        Error::Backend { backend, .. } => {
            a.backend = Some(backend);
            py.get_type::<StoreError>()
        }
        Error::NotConfigured { .. } | Error::Config(_) => py.get_type::<ConfigError>(),
        Error::Unsupported(_) | Error::Internal(_) => py.get_type::<KovaError>(),
        _ => py.get_type::<KovaError>(),
    };
    instantiate(&class, message, retryable, a)
}

fn instantiate(class: &Bound<'_, PyType>, message: String, retryable: bool, a: Attrs) -> PyErr {
    let made = (|| -> PyResult<PyErr> {
        let exc = class.call1((message.clone(),))?;
        exc.setattr("retryable", retryable)?;
        if class.is_subclass_of::<InvalidInputError>()? {
            exc.setattr("field", a.field)?;
        }
        if class.is_subclass_of::<SignatureError>()? {
            exc.setattr("reason", a.reason)?;
        }
        if class.is_subclass_of::<UpstreamError>()? {
            exc.setattr("service", a.service)?;
            exc.setattr("status", a.status)?;
            exc.setattr("retry_after", a.retry_after)?;
        }
        if class.is_subclass_of::<StoreError>()? {
            exc.setattr("backend", a.backend)?;
        }
        Ok(PyErr::from_value(exc))
    })();
    made.unwrap_or_else(|_| KovaError::new_err(message))
}

/// A stable, machine-readable name for why a signature was rejected.
pub fn signature_reason(e: &kova_core::SignatureError) -> &'static str {
    match e {
        kova_core::SignatureError::Missing => "missing",
        kova_core::SignatureError::Malformed(_) => "malformed",
        kova_core::SignatureError::UnsupportedAlgorithm => "unsupported_algorithm",
        kova_core::SignatureError::Mismatch => "mismatch",
        kova_core::SignatureError::NoSecretConfigured => "no_secret_configured",
        _ => "rejected",
    }
}

/// An `InvalidInputError` for a bad argument from Python (raised before any Rust work).
pub fn invalid(field: &str, message: impl Into<String>) -> PyErr {
    to_py_err(Error::invalid(field, message))
}
