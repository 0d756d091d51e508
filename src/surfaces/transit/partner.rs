//! Reads of transit for the open platform (`/open`, scope `transit:read`): the partner API
//! sees stations only through these functions, never through transit's tables.

use rusqlite::Connection;

/// A station as the open platform lists it.
pub struct StationRow {
    pub id: i64,
    pub name: String,
    pub route: String,
    pub area: String,
}

/// One page of every station by id and their total, for a partner listing stations.
pub fn stations(c: &Connection, limit: i64, offset: i64) -> rusqlite::Result<(Vec<StationRow>, i64)> {
    let total = c.query_row("SELECT count(*) FROM transit_station", [], |r| r.get(0))?;
    let mut stmt =
        c.prepare_cached("SELECT id, name, route, area FROM transit_station ORDER BY id LIMIT ?1 OFFSET ?2")?;
    let rows = stmt
        .query_map([limit, offset], |r| {
            Ok(StationRow { id: r.get(0)?, name: r.get(1)?, route: r.get(2)?, area: r.get(3)? })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok((rows, total))
}
