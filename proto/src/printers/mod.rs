//! What a table of objects shows, shared by the apiserver (`metav1.Table` responses, which
//! kubectl prints) and ctl (its own tables): per kind the columns Kubernetes' printers
//! define (`pkg/printers/internalversion/printers.go`: names, types, formats, priorities,
//! descriptions) and the cells of one object's row. Cells are computed from the JSON form
//! of an object, so they follow the schema as it grows. Pure: `now` is passed in.

pub mod age;
mod cells;
mod columns;
mod descriptions;
pub mod jv;

pub use cells::{csr_condition, event_time, row_cells};
pub use columns::{Column, columns};

use serde_json::Value;

/// One cell: text, or an integer where Kubernetes' printers put an `int64` (kubectl and
/// other clients receive it as a JSON number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Text(String),
    Int(i64),
}

impl Cell {
    pub fn to_json(&self) -> Value {
        match self {
            Cell::Text(s) => Value::String(s.clone()),
            Cell::Int(n) => Value::from(*n),
        }
    }
}

impl std::fmt::Display for Cell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cell::Text(s) => f.write_str(s),
            Cell::Int(n) => write!(f, "{n}"),
        }
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_string())
    }
}

impl From<i64> for Cell {
    fn from(n: i64) -> Self {
        Cell::Int(n)
    }
}

#[cfg(test)]
mod tests;
