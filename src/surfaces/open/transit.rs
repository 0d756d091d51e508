//! The partner view of transit (scope `transit:read`): the same figures the ECharts
//! endpoints answer, computed by the same functions over the rollups, for the whole box (an
//! app has no data roles), plus the station list. Parameters as CONTRACT §7 gives them.

use std::sync::Arc;

use poem_openapi::param::Query;
use poem_openapi::{Object, OpenApi};
use rusqlite::Connection;

use super::access::{app_with_scope, AppToken};
use super::{ok, page, paging, Reply};
use crate::identity::authz::DataScope;
use crate::surfaces::transit::echarts::{
    self, day_param, month_param, DayCount, HourCount, NameValue, PairCount, AGE_GROUPS,
};
use crate::surfaces::transit::{partner, Scope};
use crate::surfaces::Failure;
use crate::AppState;

pub struct TransitReadApi(pub Arc<AppState>);

const SCOPE: &str = "transit:read";

#[derive(Object)]
struct Hourly {
    /// Trips entering the station, per hour with any
    in_list: Vec<HourCount>,
    /// Trips leaving the station, per hour with any
    out_list: Vec<HourCount>,
}

#[derive(Object)]
struct Station {
    station_id: i64,
    station_name: String,
    /// e.g. 1号线
    station_route: String,
    /// e.g. Dist1
    admin_area: String,
}

fn whole_box() -> Scope {
    Scope(DataScope::default())
}

fn stations(c: &Connection, limit: i64, offset: i64) -> rusqlite::Result<(Vec<Station>, i64)> {
    let (rows, total) = partner::stations(c, limit, offset)?;
    let stations = rows
        .into_iter()
        .map(|s| Station { station_id: s.id, station_name: s.name, station_route: s.route, admin_area: s.area })
        .collect();
    Ok((stations, total))
}

fn text(value: Query<Option<String>>) -> Option<String> {
    value.0.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

impl TransitReadApi {
    /// Checks the app's token and scope, then reads and checks the parameters and computes
    /// the figures on a read connection (so a bad token is reported before bad parameters).
    async fn read<T: Send + 'static>(
        &self,
        token: &AppToken,
        figures: impl FnOnce(&Connection) -> Result<T, Failure> + Send + 'static,
    ) -> Result<T, Failure> {
        app_with_scope(&self.0, token, SCOPE).await?;
        self.0.db.read(figures).await
    }
}

#[OpenApi]
impl TransitReadApi {
    /// Trips per day, newest first; with `date`, that day only
    #[oai(path = "/api/transit/daily", method = "get")]
    async fn daily(
        &self,
        token: AppToken,
        /// yyyy-MM-dd
        date: Query<Option<String>>,
    ) -> Reply<Vec<DayCount>> {
        ok(self.read(&token, move |c| echarts::daily(c, &whole_box(), day_param(date.0)?)).await?)
    }

    /// Trips per day of a month (`date` = yyyy-MM or any day in it), newest first; without
    /// `date`, trips per month of the latest trip's year
    #[oai(path = "/api/transit/month", method = "get")]
    async fn month(
        &self,
        token: AppToken,
        /// yyyy-MM, or any date in the month
        date: Query<Option<String>>,
    ) -> Reply<Vec<DayCount>> {
        ok(self.read(&token, move |c| echarts::monthly(c, &whole_box(), month_param(date.0)?)).await?)
    }

    /// Origin–destination pairs of one day, most trips first; `station` keeps the pairs
    /// starting or ending there
    #[oai(path = "/api/transit/od", method = "get")]
    async fn od(
        &self,
        token: AppToken,
        /// The day (a time part is ignored); default the latest day with trips
        date: Query<Option<String>>,
        /// Station name
        station: Query<Option<String>>,
        /// Pairs to answer, default 100, at most 10000
        limit: Query<Option<i64>>,
    ) -> Reply<Vec<PairCount>> {
        let pairs = self.read(&token, move |c| {
            let limit = limit.0.unwrap_or(100);
            if !(1..=10_000).contains(&limit) {
                return Err(Failure::Invalid("limit must be between 1 and 10000".into()));
            }
            echarts::od_pairs(c, &whole_box(), text(station).as_deref(), day_param(date.0)?, limit)
        });
        ok(pairs.await?)
    }

    /// Passengers per age group (0-6, 7-17, 18-40, 41-65, 66+), in that order; age =
    /// `year` (default: the latest trip's year) − birth year
    #[oai(path = "/api/transit/agestruct", method = "get")]
    async fn agestruct(
        &self,
        token: AppToken,
        /// Reference year for ages
        year: Query<Option<i64>>,
    ) -> Reply<Vec<NameValue>> {
        let groups = self.read(&token, move |c| echarts::age_groups(c, year.0)).await?;
        ok(AGE_GROUPS
            .iter()
            .zip(groups)
            .map(|((name, _, _), value)| NameValue { name: (*name).into(), value })
            .collect())
    }

    /// Trips entering and leaving one station per hour of one day
    #[oai(path = "/api/transit/realtime", method = "get")]
    async fn realtime(
        &self,
        token: AppToken,
        /// Station name (or id)
        station: Query<Option<String>>,
        /// The day; default the latest day with trips
        date: Query<Option<String>>,
    ) -> Reply<Hourly> {
        let (in_list, out_list) = self
            .read(&token, move |c| {
                let station =
                    text(station).ok_or_else(|| Failure::Missing("station: send the station's name".into()))?;
                echarts::hourly(c, &whole_box(), &station, day_param(date.0)?)
            })
            .await?;
        ok(Hourly { in_list, out_list })
    }

    /// Every station by id, one page
    #[oai(path = "/api/transit/stations", method = "get")]
    async fn stations(
        &self,
        token: AppToken,
        #[oai(name = "pageNum")] page_num: Query<Option<i64>>,
        #[oai(name = "pageSize")] page_size: Query<Option<i64>>,
    ) -> Reply<Vec<Station>> {
        let (rows, total) = self
            .read(&token, move |c| {
                let (limit, offset) = paging(page_num.0, page_size.0)?;
                Ok(stations(c, limit, offset)?)
            })
            .await?;
        page(rows, total)
    }
}
