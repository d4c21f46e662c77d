//! `searchCriteria` for Commerce's list endpoints (`GET /V1/products`, `/V1/customers/search`, …).
//!
//! Commerce reads search criteria from the query string only, as bracketed
//! keys: `searchCriteria[filter_groups][<g>][filters][<f>][field|value|condition_type]`,
//! `searchCriteria[sortOrders][<i>][field|direction]`, `searchCriteria[pageSize]`,
//! `searchCriteria[currentPage]`. Filters inside one group are OR-ed, groups are AND-ed.
//! Indices are assigned in order from 0.
//!
//! ```
//! use commerce_kit_commerce_api::search::{Condition, SearchCriteria};
//!
//! let query = SearchCriteria::new()
//!     .filter("sku", "24-MB01", Condition::Eq)
//!     .or_filter("sku", "24-MB04", Condition::Eq)
//!     .filter("price", "10", Condition::Gteq)
//!     .sort("created_at", false)
//!     .page_size(20)
//!     .current_page(1)
//!     .to_query();
//! assert_eq!(query[0], ("searchCriteria[filter_groups][0][filters][0][field]".to_owned(), "sku".to_owned()));
//! assert_eq!(query[3], ("searchCriteria[filter_groups][0][filters][1][field]".to_owned(), "sku".to_owned()));
//! assert_eq!(query[8], ("searchCriteria[filter_groups][1][filters][0][condition_type]".to_owned(), "gteq".to_owned()));
//! assert_eq!(query[10], ("searchCriteria[sortOrders][0][direction]".to_owned(), "DESC".to_owned()));
//! assert_eq!(query.len(), 13);
//! ```

/// A filter's `condition_type` (Adobe's "Search using REST endpoints" table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Condition {
    /// Equals.
    Eq,
    /// Not equal.
    Neq,
    /// Greater than.
    Gt,
    /// Greater than or equal.
    Gteq,
    /// Less than.
    Lt,
    /// Less than or equal.
    Lteq,
    /// More or equal.
    Moreq,
    /// SQL `LIKE` (`%` wildcards in the value).
    Like,
    /// SQL `NOT LIKE`.
    Nlike,
    /// In a comma-separated list.
    In,
    /// Not in a comma-separated list.
    Nin,
    /// A value within a set.
    Finset,
    /// A value not within a set.
    Nfinset,
    /// Is null.
    Null,
    /// Is not null.
    Notnull,
    /// Start of a range (with `To`).
    From,
    /// End of a range (with `From`).
    To,
}

impl Condition {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Condition::Eq => "eq",
            Condition::Neq => "neq",
            Condition::Gt => "gt",
            Condition::Gteq => "gteq",
            Condition::Lt => "lt",
            Condition::Lteq => "lteq",
            Condition::Moreq => "moreq",
            Condition::Like => "like",
            Condition::Nlike => "nlike",
            Condition::In => "in",
            Condition::Nin => "nin",
            Condition::Finset => "finset",
            Condition::Nfinset => "nfinset",
            Condition::Null => "null",
            Condition::Notnull => "notnull",
            Condition::From => "from",
            Condition::To => "to",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Filter {
    field: String,
    value: String,
    condition: Condition,
}

/// A search, built in order; [`to_query`](Self::to_query) gives the query pairs (unencoded).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchCriteria {
    groups: Vec<Vec<Filter>>,
    sort: Vec<(String, bool)>,
    page_size: Option<u32>,
    current_page: Option<u32>,
}

impl SearchCriteria {
    /// An empty search (Commerce then lists everything, paged by its defaults).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a filter in a new group (AND with the previous groups).
    pub fn filter(mut self, field: impl Into<String>, value: impl Into<String>, condition: Condition) -> Self {
        self.groups.push(vec![Filter {
            field: field.into(),
            value: value.into(),
            condition,
        }]);
        self
    }

    /// Adds a filter to the last group (OR with its filters); starts a group if there is none.
    pub fn or_filter(mut self, field: impl Into<String>, value: impl Into<String>, condition: Condition) -> Self {
        let filter = Filter {
            field: field.into(),
            value: value.into(),
            condition,
        };
        match self.groups.last_mut() {
            Some(group) => group.push(filter),
            None => self.groups.push(vec![filter]),
        }
        self
    }

    /// Sorts by `field`, ascending or descending.
    pub fn sort(mut self, field: impl Into<String>, ascending: bool) -> Self {
        self.sort.push((field.into(), ascending));
        self
    }

    /// Items per page.
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = Some(size);
        self
    }

    /// The page (Commerce counts from 1).
    pub fn current_page(mut self, page: u32) -> Self {
        self.current_page = Some(page);
        self
    }

    /// The query pairs, unencoded (the client percent-encodes them).
    pub fn to_query(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (g, group) in self.groups.iter().enumerate() {
            for (f, filter) in group.iter().enumerate() {
                let prefix = format!("searchCriteria[filter_groups][{g}][filters][{f}]");
                out.push((format!("{prefix}[field]"), filter.field.clone()));
                out.push((format!("{prefix}[value]"), filter.value.clone()));
                out.push((
                    format!("{prefix}[condition_type]"),
                    filter.condition.as_str().to_owned(),
                ));
            }
        }
        for (i, (field, ascending)) in self.sort.iter().enumerate() {
            out.push((format!("searchCriteria[sortOrders][{i}][field]"), field.clone()));
            out.push((
                format!("searchCriteria[sortOrders][{i}][direction]"),
                if *ascending { "ASC" } else { "DESC" }.to_owned(),
            ));
        }
        if let Some(size) = self.page_size {
            out.push(("searchCriteria[pageSize]".to_owned(), size.to_string()));
        }
        if let Some(page) = self.current_page {
            out.push(("searchCriteria[currentPage]".to_owned(), page.to_string()));
        }
        // Without any `searchCriteria` parameter Commerce answers that it is required.
        if out.is_empty() {
            out.push(("searchCriteria".to_owned(), String::new()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_search_still_sends_search_criteria() {
        assert_eq!(
            SearchCriteria::new().to_query(),
            vec![("searchCriteria".to_owned(), String::new())]
        );
    }

    #[test]
    fn or_filter_without_a_group_starts_one() {
        let q = SearchCriteria::new()
            .or_filter("email", "%@example.com", Condition::Like)
            .to_query();
        assert_eq!(
            q,
            vec![
                (
                    "searchCriteria[filter_groups][0][filters][0][field]".to_owned(),
                    "email".to_owned()
                ),
                (
                    "searchCriteria[filter_groups][0][filters][0][value]".to_owned(),
                    "%@example.com".to_owned()
                ),
                (
                    "searchCriteria[filter_groups][0][filters][0][condition_type]".to_owned(),
                    "like".to_owned()
                ),
            ]
        );
    }
}
