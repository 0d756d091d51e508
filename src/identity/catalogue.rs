//! The permission catalogue, kept equal to the code: at every start the entries the code
//! declares (every API operation, every surface, every admin UI page) are written to the
//! `permission` table, missing ones added and granted to their audience's built-in roles,
//! vanished ones deleted. An entry is known by its `permission_value`.

use std::collections::HashMap;

use rusqlite::{params, Connection};

use super::authz::Audience;
use crate::clock::now;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Menu,
    Module,
    Button,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Menu => "MENU",
            Kind::Module => "MODULE",
            Kind::Button => "BUTTON",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub kind: Kind,
    pub name: String,
    pub icon: &'static str,
    pub uri: String,
    pub method: String,
    pub value: String,
    /// The `value` of the parent entry (a surface's MODULE for its operations).
    pub parent: Option<String>,
    pub audience: Audience,
}

impl Entry {
    pub fn module(surface: &str, title: &str) -> Entry {
        Entry {
            kind: Kind::Module,
            name: title.to_owned(),
            icon: "",
            uri: format!("/{surface}"),
            method: String::new(),
            value: surface.to_owned(),
            parent: None,
            audience: Audience::Everyone,
        }
    }

    /// An API operation: `path` is the documented path under the surface's mount.
    pub fn operation(surface: &str, method: &str, path: &str, summary: &str, audience: Audience) -> Entry {
        let method = method.to_ascii_uppercase();
        let name = if summary.is_empty() { format!("{method} {path}") } else { summary.to_owned() };
        Entry {
            kind: Kind::Button,
            name,
            icon: "",
            uri: format!("/{surface}{path}"),
            value: operation_value(surface, &method, path),
            method,
            parent: Some(surface.to_owned()),
            audience,
        }
    }

    pub fn page(page: &str, title: &str, icon: &'static str, audience: Audience) -> Entry {
        Entry {
            kind: Kind::Menu,
            name: title.to_owned(),
            icon,
            uri: format!("/admin/#/{page}"),
            method: "GET".into(),
            value: format!("admin:{page}"),
            parent: None,
            audience,
        }
    }
}

pub fn operation_value(surface: &str, method: &str, path: &str) -> String {
    format!("{surface}:{}:{path}", method.to_ascii_uppercase())
}

/// Writes the catalogue; answers permission ids by value. Order numbers follow `entries`.
pub fn sync(conn: &Connection, entries: &[Entry]) -> rusqlite::Result<HashMap<String, i64>> {
    let mut existing: HashMap<String, i64> = HashMap::new();
    {
        let mut stmt = conn.prepare("SELECT permission_value, id FROM permission")?;
        for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
            let (value, id) = row?;
            existing.insert(value, id);
        }
    }
    let mut ids = HashMap::new();
    let time = now();
    for (order, entry) in entries.iter().enumerate() {
        let id = match existing.remove(&entry.value) {
            Some(id) => {
                conn.execute(
                    "UPDATE permission SET name = ?1, icon = ?2, type = ?3, uri = ?4, method = ?5, order_num = ?6, remark = ?7
                     WHERE id = ?8 AND (name, icon, type, uri, method, order_num, remark) IS NOT (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![entry.name, entry.icon, entry.kind.as_str(), entry.uri, entry.method, order as i64, remark(entry), id],
                )?;
                id
            }
            None => {
                conn.execute(
                    "INSERT INTO permission (name, icon, type, uri, method, permission_value, order_num, remark, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    params![entry.name, entry.icon, entry.kind.as_str(), entry.uri, entry.method, entry.value, order as i64, remark(entry), time],
                )?;
                let id = conn.last_insert_rowid();
                for role in entry.audience.default_roles() {
                    conn.execute(
                        "INSERT OR IGNORE INTO role_permission (role_id, permission_id) VALUES (?1, ?2)",
                        [role, &id],
                    )?;
                }
                id
            }
        };
        ids.insert(entry.value.clone(), id);
    }
    for (_, gone) in existing {
        conn.execute("DELETE FROM permission WHERE id = ?1", [gone])?;
    }
    // Parents and trees once every id is known: a BUTTON's parent and tree are its surface's
    // MODULE; a MODULE or MENU is its own tree.
    for entry in entries {
        let id = ids[&entry.value];
        let parent = entry.parent.as_ref().and_then(|p| ids.get(p)).copied().unwrap_or(0);
        let tree = if parent == 0 { id } else { parent };
        conn.execute(
            "UPDATE permission SET parent_id = ?1, tree_id = ?2 WHERE id = ?3 AND (parent_id, tree_id) IS NOT (?1, ?2)",
            params![parent, tree, id],
        )?;
    }
    Ok(ids)
}

fn remark(entry: &Entry) -> String {
    format!("default audience: {}", entry.audience.label())
}
