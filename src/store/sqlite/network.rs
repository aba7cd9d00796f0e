//! Ports, security groups and their rules: each a JSON document, with the columns queries use.

use std::net::Ipv4Addr;

use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{SqliteTx, db, ns};
use crate::domain::network::{Port, PortFilter, SecurityGroup, SecurityGroupRule};
use crate::domain::{Error, ErrorCode, Result};
use crate::store::{NetworkReads, NetworkWrites};

fn doc<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(Error::internal)
}

fn parse<T: DeserializeOwned>(doc: String) -> Result<T> {
    serde_json::from_str(&doc).map_err(Error::internal)
}

impl SqliteTx<'_> {
    fn one_doc<T: DeserializeOwned>(&self, sql: &str, args: impl rusqlite::Params) -> Result<Option<T>> {
        let doc: Option<String> =
            self.tx.prepare_cached(sql).and_then(|mut s| s.query_row(args, |r| r.get(0)).optional()).map_err(db)?;
        doc.map(parse).transpose()
    }

    /// Inserts a port; false when a port of its subnet already holds the address.
    pub(super) fn insert_port_row(&self, port: &Port) -> Result<bool> {
        let inserted = self
            .tx
            .prepare_cached(
                "INSERT INTO ports (id, project_id, subnet_id, ip, device_id, created_ns, doc)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (project_id, subnet_id, ip) DO NOTHING",
            )
            .and_then(|mut s| {
                s.execute(params![
                    port.id,
                    port.project_id,
                    port.subnet_id,
                    port.ip.to_string(),
                    port.device_id,
                    ns(port.created),
                    doc(port).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?,
                ])
            })
            .map_err(db)?;
        Ok(inserted == 1)
    }

    /// Deletes a port; a freed address below its subnet's hint moves the hint down, so it is
    /// handed out again first.
    pub(super) fn remove_port_row(&self, project_id: &str, port_id: &str) -> Result<()> {
        let held: Option<(String, String)> = self
            .tx
            .prepare_cached("SELECT subnet_id, ip FROM ports WHERE id = ?1 AND project_id = ?2")
            .and_then(|mut s| s.query_row([port_id, project_id], |r| Ok((r.get(0)?, r.get(1)?))).optional())
            .map_err(db)?;
        let Some((subnet_id, ip)) = held else { return Ok(()) };
        let ip: Ipv4Addr = ip.parse().map_err(|_| Error::internal(format!("bad address {ip} in store")))?;
        self.tx
            .prepare_cached(
                "UPDATE address_hints SET lowest_free = MIN(lowest_free, ?3) WHERE project_id = ?1 AND subnet_id = ?2",
            )
            .and_then(|mut s| s.execute(params![project_id, subnet_id, u32::from(ip)]))
            .map_err(db)?;
        self.tx
            .prepare_cached("DELETE FROM ports WHERE id = ?1 AND project_id = ?2")
            .and_then(|mut s| s.execute([port_id, project_id]))
            .map(drop)
            .map_err(db)
    }
}

impl NetworkReads for SqliteTx<'_> {
    fn port(&mut self, project_id: &str, port_id: &str) -> Result<Option<Port>> {
        self.one_doc("SELECT doc FROM ports WHERE id = ?1 AND project_id = ?2", [port_id, project_id])
    }

    fn ports(&mut self, project_id: &str, filter: &PortFilter) -> Result<Vec<Port>> {
        // The indexed filters narrow in SQL; the rest are the domain's to match.
        let ports: Vec<Port> = match (&filter.device_id, &filter.id) {
            (_, Some(id)) => self.port(project_id, id)?.into_iter().collect(),
            (Some(device), None) => self.docs(
                "SELECT doc FROM ports WHERE device_id = ?1 AND project_id = ?2 ORDER BY created_ns, rowid",
                [device.as_str(), project_id],
            )?,
            (None, None) => {
                self.docs("SELECT doc FROM ports WHERE project_id = ?1 ORDER BY created_ns, rowid", [project_id])?
            }
        };
        Ok(ports.into_iter().filter(|p| filter.matches(p)).collect())
    }

    fn subnet_ports(&mut self, project_id: &str, subnet_id: &str) -> Result<Vec<Port>> {
        let mut ports: Vec<Port> =
            self.docs("SELECT doc FROM ports WHERE project_id = ?1 AND subnet_id = ?2", [project_id, subnet_id])?;
        ports.sort_by_key(|p| u32::from(p.ip));
        Ok(ports)
    }

    fn security_group(&mut self, project_id: &str, group_id: &str) -> Result<Option<SecurityGroup>> {
        self.one_doc("SELECT doc FROM security_groups WHERE id = ?1 AND project_id = ?2", [group_id, project_id])
    }

    fn security_groups(&mut self, project_id: &str) -> Result<Vec<SecurityGroup>> {
        self.docs("SELECT doc FROM security_groups WHERE project_id = ?1 ORDER BY created_ns, rowid", [project_id])
    }

    fn security_group_rule(&mut self, project_id: &str, rule_id: &str) -> Result<Option<SecurityGroupRule>> {
        self.one_doc("SELECT doc FROM security_group_rules WHERE id = ?1 AND project_id = ?2", [rule_id, project_id])
    }

    fn security_group_rules(&mut self, project_id: &str, group_id: Option<&str>) -> Result<Vec<SecurityGroupRule>> {
        match group_id {
            Some(group) => self.docs(
                "SELECT doc FROM security_group_rules WHERE security_group_id = ?1 AND project_id = ?2
                 ORDER BY created_ns, rowid",
                [group, project_id],
            ),
            None => self.docs(
                "SELECT doc FROM security_group_rules WHERE project_id = ?1 ORDER BY created_ns, rowid",
                [project_id],
            ),
        }
    }

    fn security_group_in_use(&mut self, project_id: &str, group_id: &str) -> Result<bool> {
        let on_port = self
            .tx
            .prepare_cached(
                "SELECT 1 FROM ports, json_each(ports.doc, '$.security_group_ids') g
                 WHERE ports.project_id = ?1 AND g.value = ?2",
            )
            .and_then(|mut s| s.exists([project_id, group_id]))
            .map_err(db)?;
        if on_port {
            return Ok(true);
        }
        self.tx
            .prepare_cached(
                "SELECT 1 FROM security_group_rules WHERE project_id = ?1 AND security_group_id != ?2
                 AND json_extract(doc, '$.remote_group_id') = ?2",
            )
            .and_then(|mut s| s.exists([project_id, group_id]))
            .map_err(db)
    }
}

impl NetworkWrites for SqliteTx<'_> {
    fn insert_port(&mut self, port: &Port) -> Result<()> {
        if self.insert_port_row(port)? {
            Ok(())
        } else {
            Err(Error::new(
                ErrorCode::VpcIpInUse,
                format!("IP {} is in use in the subnet {}.", port.ip, port.subnet_id),
            ))
        }
    }

    fn update_port(&mut self, port: &Port) -> Result<()> {
        self.tx
            .prepare_cached("UPDATE ports SET device_id = ?1, doc = ?2 WHERE id = ?3 AND project_id = ?4")
            .and_then(|mut s| {
                s.execute(params![
                    port.device_id,
                    doc(port).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?,
                    port.id,
                    port.project_id
                ])
            })
            .map(drop)
            .map_err(db)
    }

    fn delete_port(&mut self, project_id: &str, port_id: &str) -> Result<()> {
        self.remove_port_row(project_id, port_id)
    }

    fn insert_security_group(&mut self, group: &SecurityGroup) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO security_groups (id, project_id, name, created_ns, doc) VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    group.id,
                    group.project_id,
                    group.name,
                    ns(group.created),
                    doc(group).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?
                ])
            })
            .map(drop)
            .map_err(db)
    }

    fn update_security_group(&mut self, group: &SecurityGroup) -> Result<()> {
        self.tx
            .prepare_cached("UPDATE security_groups SET name = ?3, doc = ?4 WHERE id = ?1 AND project_id = ?2")
            .and_then(|mut s| {
                s.execute(params![
                    group.id,
                    group.project_id,
                    group.name,
                    doc(group).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?
                ])
            })
            .map(drop)
            .map_err(db)
    }

    fn delete_security_group(&mut self, project_id: &str, group_id: &str) -> Result<()> {
        self.tx
            .execute(
                "DELETE FROM security_group_rules WHERE security_group_id = ?1 AND project_id = ?2",
                [group_id, project_id],
            )
            .map_err(db)?;
        self.tx
            .execute("DELETE FROM security_groups WHERE id = ?1 AND project_id = ?2", [group_id, project_id])
            .map(drop)
            .map_err(db)
    }

    fn insert_security_group_rule(&mut self, rule: &SecurityGroupRule) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO security_group_rules (id, project_id, security_group_id, created_ns, doc)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    rule.id,
                    rule.project_id,
                    rule.security_group_id,
                    ns(rule.created),
                    doc(rule).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?
                ])
            })
            .map(drop)
            .map_err(db)
    }

    fn delete_security_group_rule(&mut self, project_id: &str, rule_id: &str) -> Result<()> {
        self.tx
            .execute("DELETE FROM security_group_rules WHERE id = ?1 AND project_id = ?2", [rule_id, project_id])
            .map(drop)
            .map_err(db)
    }
}
