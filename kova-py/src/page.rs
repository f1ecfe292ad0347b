//! Pages of list results: a frozen sequence of records plus the cursor of the next page.

use crate::convert::Field;
use kova_core as core;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};

/// One page of a list: iterate it, index it, or read `.items`; pass `.next_cursor` back as
/// `cursor=` for the next page (None on the last page).
#[pyclass(module = "kova", frozen, sequence)]
#[derive(Debug)]
pub struct Page {
    items: Py<PyTuple>,
    /// The cursor of the next page, or None.
    #[pyo3(get)]
    next_cursor: Option<String>,
}

#[pymethods]
impl Page {
    /// The items, as a new list.
    #[getter]
    fn items<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, self.items.bind(py).iter())
    }

    fn __len__(&self, py: Python<'_>) -> usize {
        self.items.bind(py).len()
    }

    fn __getitem__<'py>(&self, py: Python<'py>, index: isize) -> PyResult<Bound<'py, PyAny>> {
        let items = self.items.bind(py);
        let len = items.len() as isize;
        let i = if index < 0 { index + len } else { index };
        if i < 0 || i >= len {
            return Err(pyo3::exceptions::PyIndexError::new_err(
                "page index out of range",
            ));
        }
        items.get_item(i as usize)
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(self.items.bind(py).try_iter()?.into_any())
    }

    /// `Page[Event]` works at run time too, as the stubs declare `Page` generic.
    #[classmethod]
    fn __class_getitem__<'py>(
        cls: &Bound<'py, pyo3::types::PyType>,
        item: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = cls.py();
        py.import("types")?
            .getattr("GenericAlias")?
            .call1((cls, item))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Page(items={}, next_cursor={})",
            self.items.bind(py).len(),
            Field::to_py(&self.next_cursor, py)?.repr()?
        ))
    }

    /// `{"items": [dicts…], "next_cursor": …}`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        let items = PyList::empty(py);
        for item in self.items.bind(py).iter() {
            items.append(item.call_method0("to_dict")?)?;
        }
        d.set_item("items", items)?;
        d.set_item("next_cursor", &self.next_cursor)?;
        Ok(d)
    }
}

/// A page of core items on its way to Python: converted to records off the GIL, to Python
/// objects when the result is handed over.
#[derive(Debug)]
pub struct PageOf<T> {
    items: Vec<T>,
    next_cursor: Option<String>,
}

impl<T> PageOf<T> {
    /// Converts a core page item by item.
    pub fn from_core<U>(page: core::Page<U>) -> Self
    where
        T: From<U>,
    {
        PageOf {
            items: page.items.into_iter().map(T::from).collect(),
            next_cursor: page.next_cursor,
        }
    }
}

impl<'py, T> IntoPyObject<'py> for PageOf<T>
where
    T: IntoPyObject<'py>,
{
    type Target = Page;
    type Output = Bound<'py, Page>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, Page>> {
        let items = PyTuple::new(py, self.items)?;
        Bound::new(
            py,
            Page {
                items: items.unbind(),
                next_cursor: self.next_cursor,
            },
        )
    }
}
