//! Queries of static SQL text, for the path every request takes. diesel-async builds a
//! query's SQL text again at each execution (to find its prepared statement): for the
//! join of a dozen columns that checks a session, that was a tenth of a warm read's CPU.
//! A static query pushes its text in a few pieces and is cached as a prepared
//! statement by its type, like any diesel query (`sql_query` would not be cached).
//!
//! [`static_query!`] gives a struct that implements `QueryFragment<Pg>` (its
//! `walk_ast`) the impls diesel needs to run it and load its rows.

/// Declares `$name` a query whose rows have the SQL type `$sql_type`.
macro_rules! static_query {
    ($name:ident, $sql_type:ty) => {
        impl diesel::query_builder::QueryId for $name<'_> {
            type QueryId = $name<'static>;
            const HAS_STATIC_QUERY_ID: bool = true;
        }

        impl diesel::query_builder::Query for $name<'_> {
            type SqlType = $sql_type;
        }
    };
}
pub(crate) use static_query;
