//! Conversions between Python values and Kova's Rust values: JSON, headers, repository
//! references, enums parsed from strings, and the values records hand to `to_dict()`.

use kova_core::{RepoRef, Timestamp};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyList, PyString};
use std::str::FromStr;

/// A JSON value as Python data: dicts, lists, str, int, float, bool, None.
pub fn json_to_py<'py>(py: Python<'py>, v: &serde_json::Value) -> PyResult<Bound<'py, PyAny>> {
    use serde_json::Value;
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(json_to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let d = PyDict::new(py);
            for (k, item) in map {
                d.set_item(k, json_to_py(py, item)?)?;
            }
            d.into_any()
        }
    })
}

/// Request headers from a mapping (`dict`, `email.message.Message`-like with `.items()`) or
/// an iterable of `(name, value)` pairs. Names and values must be `str`.
pub fn headers_from_py(obj: &Bound<'_, PyAny>) -> PyResult<Vec<(String, String)>> {
    let pairs = if obj.hasattr("items")? {
        obj.call_method0("items")?
    } else {
        obj.clone()
    };
    let mut out = Vec::new();
    let iter = pairs.try_iter().map_err(|_| {
        PyTypeError::new_err("headers must be a mapping or an iterable of (name, value) pairs")
    })?;
    for pair in iter {
        let pair = pair?;
        let (name, value): (Bound<'_, PyAny>, Bound<'_, PyAny>) = pair.extract().map_err(|_| {
            PyTypeError::new_err("headers must be a mapping or an iterable of (name, value) pairs")
        })?;
        let name: String = name
            .extract()
            .map_err(|_| PyTypeError::new_err("header names must be str"))?;
        let value: String = value.extract().map_err(|_| {
            PyTypeError::new_err(format!("the value of header {name:?} must be str"))
        })?;
        out.push((name, value));
    }
    Ok(out)
}

/// An `owner/name` argument, validated.
pub fn repo_arg(s: &str) -> PyResult<RepoRef> {
    RepoRef::from_str(s).map_err(crate::errors::to_py_err)
}

/// An optional `owner/name` argument.
pub fn opt_repo(s: Option<&str>) -> PyResult<Option<RepoRef>> {
    s.map(repo_arg).transpose()
}

/// An optional enum argument parsed by the core's `FromStr` (which names the rule on error).
pub fn opt_parse<T>(s: Option<&str>) -> PyResult<Option<T>>
where
    T: FromStr<Err = kova_core::Error>,
{
    s.map(|s| s.parse::<T>().map_err(crate::errors::to_py_err))
        .transpose()
}

/// Values a record can put in its `to_dict()` and `repr()`.
pub trait Field {
    /// The value as a Python object (nested records become dicts, as `dataclasses.asdict`).
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>>;
}

macro_rules! field_via_into {
    ($($t:ty),*) => {$(
        impl Field for $t {
            fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                Ok(self.clone().into_pyobject(py)?.into_any())
            }
        }
    )*};
}

field_via_into!(String, i64, u64, u32, u16, f64, Timestamp);

impl Field for bool {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(PyBool::new(py, *self).to_owned().into_any())
    }
}

impl<T: Field> Field for Option<T> {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match self {
            Some(v) => v.to_py(py),
            None => Ok(py.None().into_bound(py)),
        }
    }
}

impl<T: Field> Field for Vec<T> {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let list = PyList::empty(py);
        for v in self {
            list.append(v.to_py(py)?)?;
        }
        Ok(list.into_any())
    }
}

impl Field for serde_json::Value {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, self)
    }
}

/// JSON kept in a record, exposed to Python as dicts and lists (a fresh copy per access).
#[derive(Debug, Clone, PartialEq)]
pub struct Json(pub serde_json::Value);

impl<'py> IntoPyObject<'py> for &Json {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;
    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, &self.0)
    }
}

impl Field for Json {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, &self.0)
    }
}

/// Raw bytes kept in a record, exposed to Python as `bytes`.
#[derive(Debug, Clone, PartialEq)]
pub struct RawBytes(pub bytes::Bytes);

impl<'py> IntoPyObject<'py> for &RawBytes {
    type Target = pyo3::types::PyBytes;
    type Output = Bound<'py, pyo3::types::PyBytes>;
    type Error = std::convert::Infallible;
    fn into_pyobject(self, py: Python<'py>) -> Result<Self::Output, Self::Error> {
        Ok(pyo3::types::PyBytes::new(py, &self.0))
    }
}

impl Field for RawBytes {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pyo3::types::PyBytes::new(py, &self.0).into_any())
    }
}
