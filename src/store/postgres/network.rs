//! Ports, security groups and their rules: each a JSON document, with the columns queries use.

use std::net::Ipv4Addr;

use super::{PgTx, doc, ns};
use crate::domain::network::{Port, PortFilter, SecurityGroup, SecurityGroupRule};
use crate::domain::{Error, ErrorCode, Result};
use crate::store::{NetworkReads, NetworkWrites};

impl PgTx<'_> {
    /// Inserts ports, one statement for them all; the ports not inserted because a port of
    /// their subnet already holds the address (one of `ports` before them, too).
    pub(super) fn insert_port_rows<'p>(&self, ports: &'p [Port]) -> Result<Vec<&'p Port>> {
        if ports.is_empty() {
            return Ok(Vec::new());
        }
        let column = |f: fn(&Port) -> String| ports.iter().map(f).collect::<Vec<_>>();
        let docs = ports.iter().map(doc).collect::<Result<Vec<_>>>()?;
        let inserted = self.rows(
            "INSERT INTO ports (id, project_id, subnet_id, ip, device_id, created_ns, doc)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[])
             ON CONFLICT (project_id, subnet_id, ip) DO NOTHING RETURNING project_id, subnet_id, ip",
            &[
                &column(|p| p.id.clone()),
                &column(|p| p.project_id.clone()),
                &column(|p| p.subnet_id.clone()),
                &column(|p| p.ip.to_string()),
                &column(|p| p.device_id.clone()),
                &ports.iter().map(|p| ns(p.created)).collect::<Vec<_>>(),
                &docs,
            ],
        )?;
        let mut inserted: std::collections::HashSet<(String, String, String)> =
            inserted.iter().map(|row| (row.get(0), row.get(1), row.get(2))).collect();
        // Each address inserted once: the first port on it took it, any later one is refused.
        Ok(ports
            .iter()
            .filter(|p| !inserted.remove(&(p.project_id.clone(), p.subnet_id.clone(), p.ip.to_string())))
            .collect())
    }

    /// Deletes ports; a freed address below its subnet's hint moves the hint down, so it is
    /// handed out again first. One statement for them all.
    pub(super) fn remove_port_rows(&self, condition: &str, params: &super::Params) -> Result<()> {
        let freed =
            self.rows(&format!("DELETE FROM ports WHERE {condition} RETURNING project_id, subnet_id, ip"), params)?;
        let mut projects = Vec::new();
        let mut subnets = Vec::new();
        let mut addresses = Vec::new();
        for row in &freed {
            let ip: &str = row.get(2);
            let ip: Ipv4Addr = ip.parse().map_err(|_| Error::internal(format!("bad address {ip} in store")))?;
            projects.push(row.get::<_, String>(0));
            subnets.push(row.get::<_, String>(1));
            addresses.push(i64::from(u32::from(ip)));
        }
        if freed.is_empty() {
            return Ok(());
        }
        self.exec(
            "UPDATE address_hints h SET lowest_free = LEAST(h.lowest_free, f.lowest)
             FROM (SELECT project_id, subnet_id, MIN(ip) AS lowest
                   FROM UNNEST($1::text[], $2::text[], $3::bigint[]) AS u(project_id, subnet_id, ip)
                   GROUP BY project_id, subnet_id) f
             WHERE h.project_id = f.project_id AND h.subnet_id = f.subnet_id",
            &[&projects, &subnets, &addresses],
        )
        .map(drop)
    }
}

impl NetworkReads for PgTx<'_> {
    fn port(&mut self, project_id: &str, port_id: &str) -> Result<Option<Port>> {
        self.one_doc("SELECT doc FROM ports WHERE id = $1 AND project_id = $2", &[&port_id, &project_id])
    }

    fn ports(&mut self, project_id: &str, filter: &PortFilter) -> Result<Vec<Port>> {
        // The indexed filters narrow in SQL; the rest are the domain's to match.
        let ports: Vec<Port> = match (&filter.device_id, &filter.id) {
            (_, Some(id)) => self.port(project_id, id)?.into_iter().collect(),
            (Some(device), None) => self.docs(
                "SELECT doc FROM ports WHERE device_id = $1 AND project_id = $2 ORDER BY created_ns, seq",
                &[device, &project_id],
            )?,
            (None, None) => {
                self.docs("SELECT doc FROM ports WHERE project_id = $1 ORDER BY created_ns, seq", &[&project_id])?
            }
        };
        Ok(ports.into_iter().filter(|p| filter.matches(p)).collect())
    }

    fn subnet_ports(&mut self, project_id: &str, subnet_id: &str) -> Result<Vec<Port>> {
        let mut ports: Vec<Port> =
            self.docs("SELECT doc FROM ports WHERE project_id = $1 AND subnet_id = $2", &[&project_id, &subnet_id])?;
        ports.sort_by_key(|p| u32::from(p.ip));
        Ok(ports)
    }

    fn security_group(&mut self, project_id: &str, group_id: &str) -> Result<Option<SecurityGroup>> {
        self.one_doc("SELECT doc FROM security_groups WHERE id = $1 AND project_id = $2", &[&group_id, &project_id])
    }

    fn security_groups(&mut self, project_id: &str) -> Result<Vec<SecurityGroup>> {
        self.docs("SELECT doc FROM security_groups WHERE project_id = $1 ORDER BY created_ns, seq", &[&project_id])
    }

    fn security_group_rule(&mut self, project_id: &str, rule_id: &str) -> Result<Option<SecurityGroupRule>> {
        self.one_doc("SELECT doc FROM security_group_rules WHERE id = $1 AND project_id = $2", &[&rule_id, &project_id])
    }

    fn security_group_rules(&mut self, project_id: &str, group_id: Option<&str>) -> Result<Vec<SecurityGroupRule>> {
        match group_id {
            Some(group) => self.docs(
                "SELECT doc FROM security_group_rules WHERE security_group_id = $1 AND project_id = $2
                 ORDER BY created_ns, seq",
                &[&group, &project_id],
            ),
            None => self.docs(
                "SELECT doc FROM security_group_rules WHERE project_id = $1 ORDER BY created_ns, seq",
                &[&project_id],
            ),
        }
    }

    fn security_group_in_use(&mut self, project_id: &str, group_id: &str) -> Result<bool> {
        self.exists(
            "SELECT 1 WHERE EXISTS (SELECT 1 FROM ports WHERE project_id = $1
                 AND jsonb_exists(doc::jsonb -> 'security_group_ids', $2))
             OR EXISTS (SELECT 1 FROM security_group_rules WHERE project_id = $1 AND security_group_id != $2
                 AND doc::jsonb ->> 'remote_group_id' = $2)",
            &[&project_id, &group_id],
        )
    }
}

impl NetworkWrites for PgTx<'_> {
    fn insert_port(&mut self, port: &Port) -> Result<()> {
        if self.insert_port_rows(std::slice::from_ref(port))?.is_empty() {
            Ok(())
        } else {
            Err(Error::new(
                ErrorCode::VpcIpInUse,
                format!("IP {} is in use in the subnet {}.", port.ip, port.subnet_id),
            ))
        }
    }

    fn update_port(&mut self, port: &Port) -> Result<()> {
        self.exec(
            "UPDATE ports SET device_id = $1, doc = $2 WHERE id = $3 AND project_id = $4",
            &[&port.device_id, &doc(port)?, &port.id, &port.project_id],
        )
        .map(drop)
    }

    fn delete_port(&mut self, project_id: &str, port_id: &str) -> Result<()> {
        self.remove_port_rows("id = $1 AND project_id = $2", &[&port_id, &project_id])
    }

    fn insert_security_group(&mut self, group: &SecurityGroup) -> Result<()> {
        self.exec(
            "INSERT INTO security_groups (id, project_id, name, created_ns, doc) VALUES ($1, $2, $3, $4, $5)",
            &[&group.id, &group.project_id, &group.name, &ns(group.created), &doc(group)?],
        )
        .map(drop)
    }

    fn update_security_group(&mut self, group: &SecurityGroup) -> Result<()> {
        self.exec(
            "UPDATE security_groups SET name = $3, doc = $4 WHERE id = $1 AND project_id = $2",
            &[&group.id, &group.project_id, &group.name, &doc(group)?],
        )
        .map(drop)
    }

    fn delete_security_group(&mut self, project_id: &str, group_id: &str) -> Result<()> {
        self.exec(
            "DELETE FROM security_group_rules WHERE security_group_id = $1 AND project_id = $2",
            &[&group_id, &project_id],
        )?;
        self.exec("DELETE FROM security_groups WHERE id = $1 AND project_id = $2", &[&group_id, &project_id]).map(drop)
    }

    fn insert_security_group_rule(&mut self, rule: &SecurityGroupRule) -> Result<()> {
        self.exec(
            "INSERT INTO security_group_rules (id, project_id, security_group_id, created_ns, doc)
             VALUES ($1, $2, $3, $4, $5)",
            &[&rule.id, &rule.project_id, &rule.security_group_id, &ns(rule.created), &doc(rule)?],
        )
        .map(drop)
    }

    fn delete_security_group_rule(&mut self, project_id: &str, rule_id: &str) -> Result<()> {
        self.exec("DELETE FROM security_group_rules WHERE id = $1 AND project_id = $2", &[&rule_id, &project_id])
            .map(drop)
    }
}
