//! `GET /api/qbr/smartnumbers` and `GET /api/qbr/smartnumbers/trend`.
use crate::error::AppResult;
use crate::http::context::reader;
use crate::http::response::{errors, write_encoded, Either, Enveloped};
use crate::http::{params, Cached};
use crate::service::smartnumbers::{self as service, TrendQuery};
use qbr_shared::api::{
    FlatSmartNumbersResponse, Granularity, SmartNumbersResponse, SmartNumbersShape, TrendResponse,
};
use qbr_shared::openapi::SmartNumberKey;
use qbr_shared::Period;
use salvo::prelude::*;

/// The 18 SmartNumbers of a month, quarter or year with status, previous period,
/// change and, for nulls, the missing inputs. `shape=flat` gives `{key: value}`.
#[endpoint(
    tags("smartnumbers"),
    parameters(
        ("period" = Option<Period>, Query, description = "YYYY-Qn, YYYY-MM or YYYY; default: the quarter in progress, else the latest with data"),
        ("shape" = Option<SmartNumbersShape>, Query, description = "`flat` for the seed's {key: value} shape"),
        ("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "Organization (default 1)"),
    ),
    responses(
        (status_code = 200, description = "Success: SmartNumbersResponse, or FlatSmartNumbersResponse with shape=flat", body = Enveloped<Either<SmartNumbersResponse, FlatSmartNumbersResponse>>),
        errors::BadParameter,
        errors::NotFound,
    )
)]
pub async fn get_smartnumbers(
    req: &mut Request,
    depot: &mut Depot,
    res: &mut Response,
) -> AppResult<()> {
    let period = params::period(req, "period")?;
    let flat = params::choice(req, "shape", SmartNumbersShape::WORDS)? == Some("flat");
    let mut r = reader(req, depot).await?;
    if flat {
        let answer = service::flat_for_period(&mut r.conn, &r.caches, &r.org, period).await?;
        write_encoded(res, answer.json());
    } else {
        let answer = service::for_period(&mut r.conn, &r.caches, &r.org, period).await?;
        write_encoded(res, answer.json());
    }
    Ok(())
}

/// SmartNumbers over time, month or quarter by month or quarter, for charts: at most
/// 120 periods, `from` not after `to`.
#[endpoint(
    tags("smartnumbers"),
    parameters(
        ("from" = Period, Query, description = "First period (its first month counts)"),
        ("to" = Period, Query, description = "Last period (its last month counts)"),
        ("granularity" = Option<Granularity>, Query, description = "`month` or `quarter` (default: month if `from` is a month, else quarter)"),
        ("keys" = Option<Vec<SmartNumberKey>>, Query, style = Form, explode = false, description = "Comma-separated SmartNumber keys (default: all 18)"),
        ("organization_id" = Option<i32>, Query, minimum = 1, maximum = 2147483647, description = "Organization (default 1)"),
    ),
    responses(errors::BadParameter, errors::NotFound)
)]
pub async fn get_trend(req: &mut Request, depot: &mut Depot) -> AppResult<Cached<TrendResponse>> {
    let from = params::required(params::period(req, "from")?, "from")?;
    let to = params::required(params::period(req, "to")?, "to")?;
    let granularity = match params::choice(req, "granularity", &["month", "quarter"])? {
        Some("month") => Some(Granularity::Month),
        Some(_) => Some(Granularity::Quarter),
        None => None,
    };
    let query = TrendQuery::new(from, to, granularity, &params::list(req, "keys"))?;
    let mut r = reader(req, depot).await?;
    Ok(Cached(
        service::trend(&mut r.conn, &r.caches, &r.org, query).await?,
    ))
}
