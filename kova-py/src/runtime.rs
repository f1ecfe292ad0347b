//! One shared multi-thread tokio runtime for every `Kova` object, and the two ways Python
//! waits on it: blocking (GIL released) and awaitable (asyncio).

use crate::errors::to_py_err;
use futures::FutureExt;
use kova_core::Error;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use tokio::runtime::Runtime;

/// The runtime. pyo3-async-runtimes owns it, so awaitables and blocking calls share one pool
/// of threads, one reqwest connection pool per client and one SQLite writer.
pub fn runtime() -> &'static Runtime {
    pyo3_async_runtimes::tokio::get_runtime()
}

/// Turns a panic inside Rust into an ordinary error, so it reaches Python as `KovaError`
/// instead of pyo3's `PanicException` (a `BaseException` that `except Exception` misses).
pub async fn catch_panics<T>(
    fut: impl Future<Output = kova_core::Result<T>>,
) -> kova_core::Result<T> {
    match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(r) => r,
        Err(panic) => Err(Error::Internal(format!(
            "a Rust panic was caught: {}",
            panic_message(&*panic)
        ))),
    }
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-text panic payload".into())
}

/// Runs `fut` to completion on the shared runtime with the GIL released, so other Python
/// threads run meanwhile.
pub fn block_on<T, F>(py: Python<'_>, fut: F) -> PyResult<T>
where
    F: Future<Output = kova_core::Result<T>> + Send,
    T: Send,
{
    // A blocking call from a runtime thread (e.g. inside a progress callback) would deadlock
    // or panic in tokio; refuse it with an explanation instead.
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(PyRuntimeError::new_err(
            "a blocking Kova method was called from inside Kova's own runtime (e.g. from a \
             callback); use the *_async method instead",
        ));
    }
    py.detach(|| runtime().block_on(catch_panics(fut)))
        .map_err(to_py_err)
}

/// Like [`block_on`] for futures that are not `Send`: `make` builds the future after the GIL
/// is released, so only `make` has to be `Send`.
pub fn block_on_local<T, F, M>(py: Python<'_>, make: M) -> PyResult<T>
where
    M: FnOnce() -> F + Send,
    F: Future<Output = kova_core::Result<T>>,
    T: Send,
{
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(PyRuntimeError::new_err(
            "a blocking Kova method was called from inside Kova's own runtime",
        ));
    }
    py.detach(|| runtime().block_on(catch_panics(make())))
        .map_err(to_py_err)
}

/// Wraps `fut` as an asyncio awaitable driven by the shared runtime. Cancelling the awaitable
/// drops the Rust future.
pub fn awaitable<'py, T, F>(py: Python<'py>, fut: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = kova_core::Result<T>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    pyo3_async_runtimes::tokio::future_into_py(py, async move {
        catch_panics(fut).await.map_err(to_py_err)
    })
}

/// Like [`awaitable`] for futures that fail with a Python exception of their own (e.g. one a
/// callback raised).
pub fn awaitable_py<'py, T, F>(py: Python<'py>, fut: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = PyResult<T>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    pyo3_async_runtimes::tokio::future_into_py(py, async move {
        match AssertUnwindSafe(fut).catch_unwind().await {
            Ok(r) => r,
            Err(panic) => Err(to_py_err(Error::Internal(format!(
                "a Rust panic was caught: {}",
                panic_message(&*panic)
            )))),
        }
    })
}

/// Python's `None` as an awaitable's result (pyo3 turns `()` into an empty tuple).
#[derive(Debug, Clone, Copy)]
pub struct PyNoneValue;

impl<'py> IntoPyObject<'py> for PyNoneValue {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = std::convert::Infallible;
    fn into_pyobject(self, py: Python<'py>) -> Result<Bound<'py, PyAny>, Self::Error> {
        Ok(py.None().into_bound(py))
    }
}
